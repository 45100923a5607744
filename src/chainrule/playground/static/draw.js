// Drawing for the chainrule playground: heat maps, points, curves, the activation plot and the
// network's connections. Pure functions of the data the server sends; no training happens here.
"use strict";

const Draw = (() => {
  const NEGATIVE = [245, 147, 34];   // orange: class 0, negative values
  const POSITIVE = [8, 119, 189];    // blue: class 1, positive values
  const MIDDLE = [232, 234, 235];
  // one colour per class: class 0 orange and class 1 blue as above, then green, purple, red…
  const CLASSES = [NEGATIVE, POSITIVE, [44, 160, 44], [148, 103, 189], [214, 39, 40],
    [140, 86, 75], [227, 119, 194], [23, 190, 207]];

  /** The colour a fraction t (0..1) of the way from light grey to `end`. */
  function towards(end, t) {
    return MIDDLE.map((m, c) => Math.round(m + (end[c] - m) * t));
  }

  /** The colour of t in [−1, 1] (orange → light grey → blue) as [r, g, b]. */
  function colour(t) {
    const s = Math.max(-1, Math.min(1, Number.isFinite(t) ? t : 0));
    return towards(s < 0 ? NEGATIVE : POSITIVE, Math.abs(s));
  }

  function css(t) {
    const [r, g, b] = colour(t);
    return `rgb(${r},${g},${b})`;
  }

  /** Paint a size × size picture whose pixel i has the colour pixel(i) = [r, g, b], stretched
   * smoothly over the whole canvas. */
  function paint(canvas, size, pixel) {
    const source = document.createElement("canvas");
    source.width = size;
    source.height = size;
    const context = source.getContext("2d");
    const image = context.createImageData(size, size);
    for (let i = 0; i < size * size; i += 1) {
      const [r, g, b] = pixel(i);
      image.data[4 * i] = r;
      image.data[4 * i + 1] = g;
      image.data[4 * i + 2] = b;
      image.data[4 * i + 3] = 255;
    }
    context.putImageData(image, 0, 0);
    const target = canvas.getContext("2d");
    target.imageSmoothingEnabled = true;
    target.clearRect(0, 0, canvas.width, canvas.height);
    target.drawImage(source, 0, 0, canvas.width, canvas.height);
  }

  /** Paint size × size values (row 0 at the top), each mapped by scale (and muted by
   * strength, 0..1), onto a canvas. */
  function heatmap(canvas, values, size, scale, strength = 1) {
    paint(canvas, size, (i) => colour(strength * scale(values[i])));
  }

  /** The colour of class c (as a CSS colour). */
  function classCss(c) {
    const [r, g, b] = CLASSES[c % CLASSES.length];
    return `rgb(${r},${g},${b})`;
  }

  /** Paint the decision regions of k classes: each pixel in the colour of its most probable
   * class, from light grey (p = 1/k) to the full colour (p = 1), muted by strength. */
  function regions(canvas, maps, size, strength = 1) {
    const k = maps.length;
    paint(canvas, size, (i) => {
      let best = 0;
      for (let j = 1; j < k; j += 1) if (maps[j][i] > maps[best][i]) best = j;
      const t = strength * Math.max(0, (maps[best][i] - 1 / k) / (1 - 1 / k));
      return towards(CLASSES[best % CLASSES.length], t);
    });
  }

  /** Paint one class's probabilities (size × size, in [0, 1]): light grey → the class colour. */
  function classMap(canvas, values, size, c) {
    const end = CLASSES[c % CLASSES.length];
    paint(canvas, size, (i) => towards(end, Math.max(0, Math.min(1, values[i]))));
  }

  /** A scale that maps values by their largest magnitude (at least `floor`) to [−1, 1]. */
  function symmetric(values, floor) {
    let largest = floor;
    for (const v of values) largest = Math.max(largest, Math.abs(v));
    return (v) => v / largest;
  }

  /** Training points (white rim) and, when asked, test points (dark rim) over the boundary;
   * toCss gives a point's fill from its target. */
  function points(canvas, rows, domain, toCss, testRim) {
    const context = canvas.getContext("2d");
    const w = canvas.width;
    const h = canvas.height;
    for (const [x1, x2, target] of rows) {
      if (Math.abs(x1) > domain || Math.abs(x2) > domain) continue;
      const px = ((x1 + domain) / (2 * domain)) * w;
      const py = ((domain - x2) / (2 * domain)) * h;
      context.beginPath();
      context.arc(px, py, 3.4, 0, 2 * Math.PI);
      context.fillStyle = toCss(target);
      context.fill();
      context.lineWidth = 1;
      context.strokeStyle = testRim ? "#222" : "#fff";
      context.stroke();
    }
  }

  /** Your CSV's points without classes: squares (black rim) filled with the predicted class. */
  function squares(canvas, rows, domain, toCss) {
    const context = canvas.getContext("2d");
    for (const [x1, x2, predicted] of rows) {
      if (Math.abs(x1) > domain || Math.abs(x2) > domain) continue;
      const px = ((x1 + domain) / (2 * domain)) * canvas.width;
      const py = ((domain - x2) / (2 * domain)) * canvas.height;
      context.fillStyle = toCss(predicted);
      context.fillRect(px - 3.5, py - 3.5, 7, 7);
      context.lineWidth = 1.2;
      context.strokeStyle = "#000";
      context.strokeRect(px - 3.5, py - 3.5, 7, 7);
    }
  }

  /** A small cross at a raw point (the point the hover formulas are computed at). */
  function cross(canvas, point, domain) {
    const context = canvas.getContext("2d");
    const px = ((point[0] + domain) / (2 * domain)) * canvas.width;
    const py = ((domain - point[1]) / (2 * domain)) * canvas.height;
    context.strokeStyle = "#111";
    context.lineWidth = 2;
    context.beginPath();
    context.moveTo(px - 6, py);
    context.lineTo(px + 6, py);
    context.moveTo(px, py - 6);
    context.lineTo(px, py + 6);
    context.stroke();
  }

  function axes(canvas, domain) {
    const context = canvas.getContext("2d");
    context.fillStyle = "rgba(0,0,0,0.55)";
    context.font = "10px sans-serif";
    context.fillText(`${-domain}`, 3, canvas.height - 4);
    context.fillText(`${domain}`, canvas.width - 20, canvas.height - 4);
    context.fillText(`${domain}`, 3, 11);
  }

  /** Training (dark grey) and test (blue) loss over the epochs. */
  function lossCurves(canvas, train, test) {
    const context = canvas.getContext("2d");
    const w = canvas.width;
    const h = canvas.height;
    context.clearRect(0, 0, w, h);
    const all = train.concat(test);
    if (all.length === 0) return;
    const last = Math.max(1, ...all.map((p) => p[0]));
    const top = Math.max(1e-9, ...all.map((p) => p[1]));
    const line = (series, colourName, width) => {
      context.beginPath();
      series.forEach(([epoch, value], i) => {
        const x = (epoch / last) * (w - 4) + 2;
        const y = h - 3 - (Math.min(value, top) / top) * (h - 8);
        if (i === 0) context.moveTo(x, y);
        else context.lineTo(x, y);
      });
      context.strokeStyle = colourName;
      context.lineWidth = width;
      context.stroke();
    };
    context.fillStyle = "#f7f7f7";
    context.fillRect(0, 0, w, h);
    line(train, "#555", 1.5);
    line(test, "#0877bd", 1.5);
    context.font = "10px sans-serif";
    context.fillStyle = "#555";
    context.fillText(`max ${top.toPrecision(3)}`, 4, 11);
    context.fillText("training", w - 90, 11);
    context.fillStyle = "#0877bd";
    context.fillText("test", w - 36, 11);
  }

  /** g and g' of a layer over z, with a histogram of the layer's current z underneath. */
  function activation(canvas, view) {
    const context = canvas.getContext("2d");
    const w = canvas.width;
    const h = canvas.height;
    context.clearRect(0, 0, w, h);
    context.fillStyle = "#fbfbfb";
    context.fillRect(0, 0, w, h);
    if (!view) return;
    const range = view.z_range;
    const toX = (z) => ((z + range) / (2 * range)) * w;
    const counts = view.histogram;
    const most = Math.max(1, ...counts);
    const barWidth = w / counts.length;
    context.fillStyle = "rgba(120,120,120,0.35)";
    counts.forEach((count, i) => {
      const barHeight = (count / most) * (h - 20);
      context.fillRect(i * barWidth + 0.5, h - barHeight, barWidth - 1, barHeight);
    });
    if (!view.elementwise) {
      context.fillStyle = "#444";
      context.font = "12px sans-serif";
      context.fillText(`${view.name} is not elementwise: no curve g(z)`, 10, 20);
      return;
    }
    const values = view.g.concat(view.dg);
    let low = Math.min(0, ...values);
    let high = Math.max(1, ...values);
    low = Math.max(low, -6);
    high = Math.min(high, 6);
    const toY = (v) => h - 6 - ((Math.max(low, Math.min(high, v)) - low) / (high - low)) * (h - 16);
    context.strokeStyle = "#bbb";
    context.lineWidth = 1;
    context.beginPath();
    context.moveTo(0, toY(0));
    context.lineTo(w, toY(0));
    context.moveTo(toX(0), 0);
    context.lineTo(toX(0), h);
    context.stroke();
    const curve = (ys, colourName) => {
      context.beginPath();
      view.z.forEach((z, i) => {
        if (i === 0) context.moveTo(toX(z), toY(ys[i]));
        else context.lineTo(toX(z), toY(ys[i]));
      });
      context.strokeStyle = colourName;
      context.lineWidth = 2;
      context.stroke();
    };
    curve(view.g, "#0877bd");
    curve(view.dg, "#f59322");
    context.font = "11px sans-serif";
    context.fillStyle = "#0877bd";
    context.fillText("g(z)", 6, 13);
    context.fillStyle = "#e07b00";
    context.fillText("g′(z)", 40, 13);
    context.fillStyle = "#777";
    context.fillText("bars: the layer's z on the training data", 84, 13);
    context.fillText(`z ∈ [${-range}, ${range}]`, w - 78, h - 4);
  }

  /** Lines between node centres: thickness by |w|, colour by sign; a title shows the value. */
  function links(svg, segments) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const ns = "http://www.w3.org/2000/svg";
    for (const s of segments) {
      const path = document.createElementNS(ns, "path");
      const mid = (s.x1 + s.x2) / 2;
      path.setAttribute("d", `M${s.x1},${s.y1} C${mid},${s.y1} ${mid},${s.y2} ${s.x2},${s.y2}`);
      path.setAttribute("stroke", css(Math.sign(s.weight) * Math.min(1, 0.35 + Math.abs(s.weight))));
      path.setAttribute("stroke-width", `${Math.min(7, 0.6 + 1.6 * Math.abs(s.weight))}`);
      path.setAttribute("fill", "none");
      path.setAttribute("opacity", "0.85");
      path.dataset.layer = `${s.layer}`;  // the hover formula finds its numbers by these
      path.dataset.to = `${s.to}`;
      path.dataset.from = `${s.from}`;
      svg.appendChild(path);
    }
  }

  return {
    colour, css, classCss, heatmap, regions, classMap, cross, squares, symmetric, points, axes, lossCurves, activation, links,
  };
})();
