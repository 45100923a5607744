"""The playground in a real headless Chromium (Debian's, driven by Playwright's Python API).

Skipped without Playwright or /usr/bin/chromium, except in CI (CHAINRULE_REQUIRE_BROWSER=1),
where a missing browser fails. The acceptance run also takes the README's screenshot: set
CHAINRULE_SCREENSHOT=docs/playground.png to write it there (it always goes to a temp folder).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.explain import explain
from chainrule.nn import Dropout
from chainrule.playground.limits import BOUNDARY_GRID, Caps
from chainrule.playground.messages import parse_setup
from chainrule.playground.network import make_data
from chainrule.playground.registry import SessionRegistry
from chainrule.playground.views import grid_points
from conftest import running_playground

CHROMIUM = "/usr/bin/chromium"
REQUIRED = os.environ.get("CHAINRULE_REQUIRE_BROWSER") == "1"
if not REQUIRED:
    pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no browser at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
from playwright.sync_api import sync_playwright  # noqa: E402

VIEWPORT = {"width": 1280, "height": 800}
WAIT_MS = 30_000
# A start that is neither XOR nor tanh, so that picking them is a change the page must make.
START = (
    "#dataset=circles&features=x1,x2,x1_sq,x2_sq,sin_x1,sin_x2&layers=6:relu,6:relu,4:relu"
    "&lr=0.03&optimizer=adam&batch=10&noise=0.05"
)


@pytest.fixture(scope="module")
def browser():
    assert os.path.exists(CHROMIUM), f"no browser at {CHROMIUM}"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, playground_url):
    # Playwright's waits evaluate JavaScript text, which the page's CSP forbids; the last test
    # runs the page under its CSP.
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True, bypass_csp=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.set_default_timeout(WAIT_MS)
    yield page
    context.close()
    assert not problems, problems


def wait_for_hash(page, fragment: str) -> None:
    page.wait_for_function("(text) => location.hash.includes(text)", arg=fragment)


def choose(page, dataset: str, activation: str) -> None:
    """Click the data set, then pick the activation in every hidden layer, as a user would."""
    page.click(f"button[data-dataset='{dataset}']")
    wait_for_hash(page, f"dataset={dataset}")
    count = page.locator("select.activation").count()
    for index in range(count):
        page.select_option(f"select.activation[data-layer='{index}']", activation)
        page.wait_for_function(
            "([index, name]) => new URLSearchParams(location.hash.slice(1)).get('layers')"
            ".split(',')[index].endsWith(':' + name)",
            arg=[index, activation],
        )
    layers = page.evaluate("new URLSearchParams(location.hash.slice(1)).get('layers')")
    assert [part.split(":")[1] for part in layers.split(",")] == [activation] * count


def boundary_pixels(page) -> str:
    return page.evaluate("document.getElementById('boundary').toDataURL()")


def train(page, until: str) -> None:
    page.click("#start")
    page.wait_for_function("document.body.dataset.running === 'true'")
    page.wait_for_function(until, polling=100)
    page.click("#start")
    page.wait_for_function("document.body.dataset.running === 'false'")


def export_and_check(page, tmp_path: Path, capsys) -> None:
    """Download the model; chainrule.load gives the accuracy the page shows."""
    shown = float(page.get_attribute("#test-accuracy", "data-value"))
    epoch = int(page.get_attribute("#epoch", "data-value"))
    with page.expect_download() as download:
        page.click("#export-model")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    model = cr.load(path)
    assert model.metadata["epoch"] == epoch
    data = make_data(parse_setup(model.metadata["playground"]))
    result = model.evaluate(data.points_test, data.y_test, batch_size=None, return_dict=True)
    assert result["accuracy"] == pytest.approx(shown, abs=1e-12)
    # chainrule predict on the raw (x1, x2) of the page's grid gives the page's P(class 1)
    raw = tmp_path / "raw.csv"
    raw.write_text(
        "x1,x2\n" + "".join(f"{a!r},{b!r}\n" for a, b in grid_points(BOUNDARY_GRID).tolist())
    )
    capsys.readouterr()
    assert main(["predict", str(path), str(raw), "--proba"]) == 0
    predicted = [float(row.split(",")[1]) for row in capsys.readouterr().out.splitlines()[1:]]
    shown_boundary = page.evaluate("app.state.boundary")
    assert len(predicted) == len(shown_boundary) == BOUNDARY_GRID**2
    assert max(abs(a - b) for a, b in zip(predicted, shown_boundary)) < 2e-4


def test_train_xor_then_spirals_screenshot_and_export(page, playground_url, tmp_path, capsys):
    page.goto(playground_url + "/" + START)
    wait_for_hash(page, "dataset=circles")
    choose(page, "xor", "tanh")
    before = boundary_pixels(page)
    train(page, "Number(document.getElementById('test-loss').dataset.value) < 0.1")
    assert float(page.get_attribute("#test-loss", "data-value")) < 0.1
    assert boundary_pixels(page) != before
    export_and_check(page, tmp_path, capsys)

    choose(page, "spirals", "leaky_relu")
    train(page, "Number(document.body.dataset.epoch) >= 120")
    page.click(".hidden-layer[data-layer='0'] .layer-label")
    page.wait_for_function(
        "document.getElementById('activation-title').textContent.startsWith('Layer 1')"
    )
    screenshot = tmp_path / "playground.png"
    page.screenshot(path=str(screenshot))
    assert screenshot.stat().st_size > 10_000
    if os.environ.get("CHAINRULE_SCREENSHOT"):
        shutil.copyfile(screenshot, os.environ["CHAINRULE_SCREENSHOT"])
    export_and_check(page, tmp_path, capsys)


def test_a_bad_field_in_a_link_is_named_and_the_others_are_kept(page, playground_url):
    page.goto(
        playground_url + "/#dataset=imagenet&layers=99:relu&lr=abc&noise=0.2&seed=7"
        "&features=x1,x2,x1_x2&batch=25"
    )
    page.wait_for_selector("#error:not([hidden])")
    text = page.text_content("#error-text")
    assert "unknown dataset" in text and "layer 1 units" in text and '"abc"' in text
    wait_for_hash(page, "seed=7")
    params = page.evaluate("Object.fromEntries(new URLSearchParams(location.hash.slice(1)))")
    assert params["noise"] == "0.2" and params["batch"] == "25"
    assert params["features"] == "x1,x2,x1_x2" and params["dataset"] == "xor"
    page.click("#step")
    page.wait_for_function("document.body.dataset.epoch === '1'")


def test_two_tabs_train_their_own_networks_under_the_pages_csp(browser, playground_url):
    context = browser.new_context(viewport=VIEWPORT)
    first, second = context.new_page(), context.new_page()
    console: list[str] = []
    for tab in (first, second):
        tab.on("console", lambda message: console.append(message.text))
        tab.goto(playground_url + "/")
        tab.wait_for_selector("body[data-epoch='0'] .hidden-layer .node canvas")
    assert first.get_attribute("body", "data-session") != second.get_attribute(
        "body", "data-session"
    )
    first.click("#step")
    first.wait_for_selector("body[data-epoch='1']")
    second.click("button[data-dataset='moons']")
    second.wait_for_selector("button.dataset.selected[data-dataset='moons']")
    assert second.get_attribute("body", "data-epoch") == "0"
    assert "dataset=xor" in first.url and "dataset=moons" in second.url
    context.close()
    assert not [text for text in console if "Content Security Policy" in text], console


RED = "rgb(192, 18, 31)"


def test_a_learning_rate_change_keeps_training_and_a_dataset_change_says_it_resets(
    page, playground_url
):
    page.goto(playground_url + "/")
    page.wait_for_selector("body[data-epoch='0'] .hidden-layer .node canvas")
    page.click("#start")
    page.wait_for_function("Number(document.body.dataset.epoch) >= 3", polling=100)
    page.select_option("#learning-rate", "0.1")
    wait_for_hash(page, "lr=0.1")
    epoch = int(page.get_attribute("body", "data-epoch"))
    assert epoch >= 3 and page.get_attribute("body", "data-running") == "true"
    page.wait_for_function(f"Number(document.body.dataset.epoch) > {epoch}", polling=100)
    page.click("button[data-dataset='moons']")
    page.wait_for_selector("#notice:not([hidden])")
    assert "epoch 0" in page.text_content("#notice-text")
    page.wait_for_selector("body[data-epoch='0'][data-running='false']")


def test_a_diverged_run_keeps_its_epoch_and_losses_in_red(page, playground_url):
    page.goto(
        playground_url + "/#dataset=regression&optimizer=sgd&lr=10&features=x1,x2,x1_sq,"
        "x2_sq,x1_x2&layers=8:identity,8:identity"
    )
    wait_for_hash(page, "dataset=regression")
    page.click("#start")
    page.wait_for_selector("body[data-diverged='true'][data-running='false']")
    state = page.locator("#run-state")
    assert "diverged" in state.text_content() and "lower the Learning rate" in (
        state.text_content()
    )
    assert state.evaluate("e => getComputedStyle(e).backgroundColor") == RED
    assert int(page.get_attribute("body", "data-epoch")) >= 1
    assert page.text_content("#test-loss") not in ("—", "NaN")
    assert page.locator("#test-loss").evaluate("e => getComputedStyle(e).color") == RED
    assert page.get_attribute("#health", "data-ok") == "false"
    assert page.locator("#health .ok").count() == 0


def test_a_full_server_says_so_instead_of_connection_closed(browser):
    with running_playground(sessions=SessionRegistry(limit=1)) as url:
        context = browser.new_context(viewport=VIEWPORT)
        first, second = context.new_page(), context.new_page()
        first.goto(url + "/")
        first.wait_for_selector("body[data-epoch='0']")
        second.goto(url + "/")
        second.wait_for_selector("body[data-connection='server full']")
        assert "at most 1 tabs" in second.text_content("#error-text")
        assert "closed" not in second.text_content("#error-text")
        second.wait_for_timeout(500)  # the close event came and went: the words stay
        assert second.is_visible("#error")
        context.close()


SIX_WIDE_LAYERS = (
    "#dataset=spirals&features=x1,x2,x1_sq,x2_sq,x1_x2,sin_x1,sin_x2"
    "&layers=" + ",".join(["8:leaky_relu"] * 6)
)


def boxes(page, selector: str) -> list[dict]:
    return page.eval_on_selector_all(
        selector,
        "elements => elements.map(e => {"
        "const b = e.getBoundingClientRect();"
        "return {left: b.left, right: b.right, top: b.top, "
        "bottom: b.bottom}; })",
    )


def overlap(a: dict, b: dict) -> bool:
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and (b["top"] < a["bottom"])
    )


def test_six_layers_at_1280_px_never_overlap_the_output(page, playground_url):
    page.goto(playground_url + "/" + SIX_WIDE_LAYERS)
    page.wait_for_function(
        "document.querySelectorAll('.hidden-layer').length === 6 && "
        "document.querySelectorAll('.hidden-layer .node').length === 48"
    )
    page.click("#step")
    page.wait_for_selector("body[data-epoch='1']")
    network = boxes(page, "#network")[0]
    output_parts = boxes(page, ".output-column > *")
    nodes = boxes(page, ".net-column .node, .layer-head")
    for node in nodes:  # every unit is on screen, inside the network's own box
        assert network["left"] - 0.5 <= node["left"] and node["right"] <= network["right"] + 0.5
        assert not any(overlap(node, part) for part in output_parts)
    columns = boxes(page, ".net-column")
    assert all(a["right"] <= b["left"] for a, b in zip(columns, columns[1:]))
    assert network["right"] <= boxes(page, ".output-column")[0]["left"]
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORT["width"]


def test_a_phone_viewport_has_no_horizontal_scroll(browser, playground_url):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, bypass_csp=True
    )
    phone = context.new_page()
    phone.goto(playground_url + "/" + START)
    phone.wait_for_function("document.querySelectorAll('.hidden-layer').length === 3")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.click("#step")
    phone.wait_for_selector("body[data-epoch='1']")
    for selector in ("#boundary", "#loss-curve", "#start", "#datasets", "#network"):
        box = boxes(phone, selector)[0]
        assert 0 <= box["left"] and box["right"] <= 390, selector
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()


def test_caps_from_the_command_line_reach_the_pages_buttons(browser):
    with running_playground(caps=Caps(max_layers=8, max_units=10, max_samples=2000)) as url:
        context = browser.new_context(viewport=VIEWPORT, bypass_csp=True)
        tab = context.new_page()
        tab.set_default_timeout(WAIT_MS)
        tab.goto(url + "/#layers=" + ",".join(["9:relu"] * 7))  # 7 layers of 9: over 6 × 8
        tab.wait_for_function("document.querySelectorAll('.hidden-layer').length === 7")
        assert tab.get_attribute("#samples", "max") == "2000"
        tab.click("#add-layer")
        tab.wait_for_function("document.querySelectorAll('.hidden-layer').length === 8")
        assert tab.is_disabled("#add-layer")
        plus = ".hidden-layer[data-layer='0'] .layer-head button[title='Add a unit']"
        tab.click(plus)
        tab.wait_for_function(
            "document.querySelectorAll(\".hidden-layer[data-layer='0'] .node\").length === 10"
        )
        assert tab.is_disabled(plus)
        tab.click("#step")
        tab.wait_for_selector("body[data-epoch='1']")
        context.close()


MUTED = 0.55  # app.js's BACKGROUND_STRENGTH: the regions' colours at p = 1
CLASS_RGB = [(245, 147, 34), (8, 119, 189), (44, 160, 44)]
GREY = (232, 234, 235)


def test_three_spirals_show_three_coloured_regions_and_three_output_units(page, playground_url):
    page.goto(playground_url + "/#layers=8:relu,8:relu&lr=0.03")
    page.wait_for_selector("body[data-epoch='0'] .hidden-layer .node canvas")
    page.click("button[data-dataset='spirals3']")
    wait_for_hash(page, "dataset=spirals3")
    page.wait_for_function("document.querySelectorAll('.output-node').length === 3")
    assert "3 classes" in page.text_content("#problem")
    train(page, "Number(document.getElementById('test-accuracy').dataset.value) > 0.85")
    pixels = page.evaluate("""() => {
        const canvas = document.getElementById('boundary');
        return Array.from(canvas.getContext('2d').getImageData(0, 0, canvas.width,
                                                               canvas.height).data); }""")
    rgb = [tuple(pixels[i : i + 3]) for i in range(0, len(pixels), 4)]
    for colour in CLASS_RGB:  # each class's region is painted in its own (muted) colour
        region = tuple(g + MUTED * (c - g) for g, c in zip(GREY, colour))
        near = sum(1 for p in rgb if max(abs(a - b) for a, b in zip(p, region)) <= 12)
        assert near > 0.05 * len(rgb), (colour, near)
    links = page.locator("#links path").count()
    assert links == 2 * 8 + 8 * 8 + 8 * 3  # every output unit has its incoming weights


def test_a_dropout_control_per_layer_trains_with_dropout_and_evaluates_without(
    page, playground_url, tmp_path, capsys
):
    page.goto(playground_url + "/#dataset=moons&layers=6:relu,4:relu")
    page.wait_for_selector("body[data-epoch='0'] .hidden-layer .node canvas")
    assert page.locator("select.dropout").count() == 2
    page.select_option("select.dropout[data-layer='1']", "0.5")
    wait_for_hash(page, "layers=6:relu,4:relu:0.5")
    page.wait_for_function(
        "document.querySelector(\"select.dropout[data-layer='1']\").value === '0.5'"
    )
    page.click("#step")
    page.wait_for_selector("body[data-epoch='1']")
    export_and_check(page, tmp_path, capsys)  # evaluation: the page's accuracy, exactly
    model = cr.load(tmp_path / "playground-model.npz")
    assert [layer.rate for layer in model.layers if isinstance(layer, Dropout)] == [0.5]
    page.reload()  # the link keeps the rate
    page.wait_for_function(
        "document.querySelector(\"select.dropout[data-layer='1']\")?.value === '0.5'"
    )


def numbers(text: str) -> list[float]:
    return [float(n.replace("−", "-")) for n in re.findall(r"[−-]?\d+\.\d{3}", text)]


def test_hovering_a_unit_or_a_connection_shows_its_formula_with_the_numbers(
    page, playground_url, tmp_path
):
    page.goto(playground_url + "/#dataset=circles&features=x1,x2,x1_sq&layers=3:tanh,2:relu")
    page.wait_for_selector("body[data-epoch='0'] .hidden-layer .node canvas")
    page.click("#step")
    page.wait_for_selector("body[data-epoch='1']")
    box = page.locator("#boundary").bounding_box()  # a click on the output map moves p
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.25)
    page.wait_for_function("app.state.probe.point[0] > 0.7 && app.state.probe.point[1] > 0.7")
    point = page.evaluate("app.state.probe.point")
    with page.expect_download() as download:
        page.click("#export-model")
    path = tmp_path / "model.npz"
    download.value.save_as(path)
    model = cr.load(path)  # the numbers are recomputed here from the exported file
    a0 = model.preprocessing.transform(np.array([point]))[0].astype(np.float64)
    dense = [layer for layer in model.layers if isinstance(layer, cr.nn.Dense)]
    w1, b1 = dense[0].weight.numpy().astype(np.float64), dense[0].bias.numpy()
    z1 = w1 @ a0 + b1

    page.hover(".hidden-layer[data-layer='0'] .node[data-unit='1']")
    page.wait_for_selector("#formula:not([hidden])")
    text = page.text_content("#formula")
    lines = text.splitlines()
    assert lines[0] == "Layer 1, unit 2 (tanh)"
    assert lines[1].startswith("z = Σᵢ wᵢ aᵢ + b = ")
    shown = numbers(lines[1])  # w, a pairs, then b, then z
    expected = [v for i in range(3) for v in (w1[1, i], a0[i])] + [b1[1], z1[1]]
    np.testing.assert_allclose(shown, expected, atol=1.5e-3)
    assert lines[2].startswith("a = tanh(z) = ")
    assert numbers(lines[2])[0] == pytest.approx(np.tanh(z1[1]), abs=1.5e-3)
    assert f"p = ({point[0]:.3f}, {point[1]:.3f})".replace("-", "−") in text

    page.hover(".output-node")
    page.wait_for_function(
        "document.getElementById('formula').textContent.startsWith('Output unit')"
    )
    assert "P(class 1) = σ(z)" in page.text_content("#formula")
    page.mouse.move(0, 0)
    page.wait_for_selector("#formula[hidden]", state="attached")

    link = page.locator("#links path[data-layer='0'][data-to='2'][data-from='2']")
    link.dispatch_event("mouseover")
    page.wait_for_selector("#formula:not([hidden])")
    text = page.text_content("#formula")
    assert text.startswith("Weight from x1_sq to Layer 1, unit 3")
    w, a, product, z = numbers(text.splitlines()[1])
    assert w == pytest.approx(w1[2, 2], abs=1e-3) and a == pytest.approx(a0[2], abs=1e-3)
    assert product == pytest.approx(w1[2, 2] * a0[2], abs=1e-3)
    assert z == pytest.approx(z1[2], abs=1.5e-3)


def test_your_own_csv_trains_and_a_bad_one_is_named_in_the_page(page, playground_url, tmp_path):
    rng = np.random.default_rng(3)
    points = rng.uniform(-1, 1, size=(150, 2))
    sides = np.where(points[:, 0] > 0.3, "right", np.where(points[:, 1] > 0, "top", "bottom"))
    good = tmp_path / "sides.csv"
    good.write_text(
        "x1,x2,side\n"
        + "".join(f"{a:.4f},{b:.4f},{c}\n" for (a, b), c in zip(points.tolist(), sides.tolist()))
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2,side\n" + "0.5,0.5,top\n" * 12 + "0.1,twelve,right\n")
    page.goto(playground_url + "/#layers=6:relu")
    page.wait_for_selector("body[data-epoch='0'] .hidden-layer .node canvas")
    page.set_input_files("#own-csv", str(bad))
    page.wait_for_selector("#error:not([hidden])")
    text = page.text_content("#error-text")
    assert "Your CSV was not used" in text and "line 14" in text and "'twelve'" in text
    assert "dataset=xor" in page.url
    page.click("#error-close")
    page.set_input_files("#own-csv", str(good))
    wait_for_hash(page, "dataset=own")
    page.wait_for_function("document.querySelectorAll('.output-node').length === 3")
    assert page.locator("#own-csv-button.selected").count() == 1
    train(page, "Number(document.getElementById('test-accuracy').dataset.value) > 0.85")
    shown = page.evaluate("app.points.train.length + app.points.test.length")
    assert shown == 150


def test_a_csv_without_classes_is_drawn_with_the_networks_predictions(
    page, playground_url, tmp_path
):
    points = tmp_path / "points.csv"
    points.write_text("x1,x2\n1.3,1.3\n-0.5,0.5\n")
    page.goto(playground_url + "/")
    page.wait_for_selector("body[data-epoch='0'] .hidden-layer .node canvas")
    page.set_input_files("#own-csv", str(points))
    page.wait_for_selector("#notice:not([hidden])")
    assert "2 points (no class column)" in page.text_content("#notice-text")
    page.wait_for_function("app.state.own_points && app.state.own_points.length === 2")
    assert "dataset=xor" in page.url and page.get_attribute("body", "data-epoch") == "0"
    rim = page.evaluate("""() => {  // the left edge of the square at (1.3, 1.3): x 276.5, y 20
        const data = document.getElementById('boundary').getContext('2d')
            .getImageData(275, 20, 4, 1).data;
        return [0, 1, 2, 3].map(i => Math.max(data[4 * i], data[4 * i + 1], data[4 * i + 2]));
    }""")
    assert min(rim) < 80, rim


def test_a_click_on_the_map_explains_backpropagation_at_that_point(page, playground_url, tmp_path):
    page.goto(playground_url + "/#dataset=circles&layers=6:relu,3:tanh&optimizer=sgd&lr=0.1")
    page.wait_for_selector("body[data-epoch='0'] .hidden-layer .node canvas")
    page.click("#step")
    page.wait_for_selector("body[data-epoch='1']")
    assert "Click the output map" in page.text_content("#explain")
    box = page.locator("#boundary").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.35)
    page.wait_for_selector("#explain[data-verified='true'][data-epoch='1']")
    shown = page.evaluate("app.explanation")
    text = page.text_content("#explain")
    assert shown["point"] == page.evaluate("app.state.probe.point")
    assert "✓ verified: every δ, ∂L/∂W and ∂L/∂b equals chainrule's own gradient" in text
    rules = page.locator(".explain-rule").all_text_contents()
    assert [rule.split(":")[0] for rule in rules] == [
        "Layer 1 (relu)",
        "Layer 2 (tanh)",
        "Output layer (identity)",
    ]
    assert "dense" not in text
    # the numbers are chainrule.explain's on the exported model, at the point and the label
    # of the nearest training point
    with page.expect_download() as download:
        page.click("#export-model")
    path = tmp_path / "model.npz"
    download.value.save_as(path)
    model = cr.load(path)
    data = make_data(parse_setup(model.metadata["playground"]))
    nearest = int(np.argmin(np.sum((data.points_train - shown["point"]) ** 2, axis=1)))
    assert shown["label"] == data.y_train[nearest, 0] and shown["label_from"] == "nearest"
    assert f"y = {shown['label']}, the label of the nearest training point" in text
    expected = explain(model, np.array([shown["point"]]), data.y_train[nearest : nearest + 1])
    for mine, theirs in zip(shown["layers"], expected.layers, strict=True):
        assert mine["delta"] == theirs.delta[0].tolist()
        assert mine["weight_update"] == theirs.weight_update.tolist()
    # relu units off at the point: f'(z) = 0, their rows and a note in red
    off = [u for u, z in enumerate(shown["layers"][0]["z"]) if z < 0]
    assert off, "the test needs a relu unit that is off at the clicked point"
    rows = page.locator(".explain-layer[data-layer='0'] tr.vanishing")
    assert [int(rows.nth(i).get_attribute("data-unit")) for i in range(rows.count())] == off
    notes = page.locator(".explain-layer[data-layer='0'] .vanishing-note").all_text_contents()
    units = [str(u + 1) for u in off]
    listed = units[0] if len(units) == 1 else ", ".join(units[:-1]) + " and " + units[-1]
    who, its, learn = (
        ("Unit", "its", "it hardly learns")
        if len(off) == 1
        else ("Units", "their", "they hardly learn")
    )
    assert notes == [
        f"{who} {listed}: f′(z) ≈ 0 ({', '.join(['0'] * len(off))}; below 1% of "
        f"relu's largest slope 1.00), so δ ≈ 0 and {its} incoming weights and bias "
        f"barely change: {learn} from this example."
    ]
    cells = page.locator(".explain-layer[data-layer='0'] tr[data-unit='0'] td")
    assert cells.nth(1).text_content() == _js_number(shown["layers"][0]["z"][0])
    # a picked class is the label; a new epoch brings a new explanation
    page.select_option("#explain-label", "1" if shown["label"] == 0 else "0")
    page.wait_for_function("app.explanation.label_from === 'chosen'")
    assert "the class you picked" in page.text_content("#explain")
    assert "loss L = binary_crossentropy = " in page.text_content("#explain")  # no penalty
    page.click("#step")
    page.wait_for_selector("#explain[data-epoch='2']")
    assert page.evaluate("app.explanation.label_from") == "chosen"
    train(page, "Number(document.body.dataset.epoch) >= 6")  # it follows training, and the
    page.wait_for_function("app.explanation.epoch === app.state.epoch")  # pause's state
    panel = boxes(page, "#explain-panel")[0]
    assert panel["right"] <= boxes(page, ".output-column")[0]["right"] + 0.5
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORT["width"]


def _js_number(value: float) -> str:
    """The panel's format: three significant digits, − for minus."""
    if value == 0:
        return "0"
    text = f"{value:.3g}" if 1e-3 <= abs(value) < 1e4 else f"{value:.1e}"
    return text.replace("-", "−")


def test_the_explain_panel_fits_a_phone(browser, playground_url):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, bypass_csp=True
    )
    phone = context.new_page()
    phone.goto(playground_url + "/#dataset=spirals3&samples=150&layers=8:relu,8:tanh")
    phone.wait_for_function("document.querySelectorAll('.hidden-layer').length === 2")
    phone.locator("#boundary").click(position={"x": 60, "y": 60})
    phone.wait_for_selector("#explain[data-verified='true']")
    assert phone.locator(".explain-layer").count() == 3
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()


def test_the_bias_variance_verdict_appears_and_follows_training(page, playground_url):
    page.goto(playground_url + "/#dataset=spirals&samples=1000&layers=1:tanh")
    page.wait_for_selector("body[data-epoch='0'] #bias-variance p")
    for _ in range(3):
        page.click("#step")
    page.wait_for_selector("body[data-epoch='3']")
    page.wait_for_selector("#bias-variance[data-verdict='high_bias']")
    text = page.text_content("#bias-variance")
    shown = page.evaluate("app.state.bias_variance")
    assert "Bias/variance at epoch 3: training error" in text and "baseline 0.0%" in text
    accuracy = page.evaluate("app.state.train_metrics.accuracy")
    assert shown["training_error"] == pytest.approx(1 - accuracy)
    assert "High bias" in text and "more neurons (+) or another hidden layer" in text
    assert "Regularization rate" not in text  # no penalty to lower
