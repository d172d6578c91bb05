import numpy as np

from inpaint_data.report import histogram_chart, image_grid, line_chart


def test_charts_are_rgb_images_of_the_asked_size():
    chart = line_chart({"loss": [(0, 1.0), (1, 14800.0), (2, 0.9), (3, float("nan"))]}, "training loss")
    assert chart.shape == (300, 560, 3) and chart.dtype == np.uint8 and chart.std() > 0
    hist = histogram_chart(np.linspace(0, 0.6, 100), "ratios", "hole ratio", marks=(0.1, 0.2), width=400, height=200)
    assert hist.shape == (200, 400, 3)


def test_a_spike_gets_a_log_axis_and_a_flat_series_does_not():
    spiky = line_chart({"loss": [(i, 14800.0 if i == 3 else 1.0 + i / 100) for i in range(20)]}, "t")
    linear = line_chart({"loss": [(i, 14800.0 if i == 3 else 1.0 + i / 100) for i in range(20)]}, "t", log_y=False)
    log = line_chart({"loss": [(i, 14800.0 if i == 3 else 1.0 + i / 100) for i in range(20)]}, "t", log_y=True)
    assert np.array_equal(spiky, log) and not np.array_equal(spiky, linear)


def test_image_grid_places_gray_and_rgb_tiles_in_rows():
    tiles = [[np.full((10, 20), 255, np.uint8), np.zeros((5, 5, 3), np.uint8)], [np.full((8, 8, 3), 7, np.uint8)]]
    grid = image_grid(tiles, gap=2, background=128)
    assert grid.shape == (2 + 10 + 2 + 8 + 2, 2 + 20 + 2 + 5 + 2, 3)
    assert (grid[2:12, 2:22] == 255).all() and (grid[2:7, 24:29] == 0).all() and (grid[14:22, 2:10] == 7).all()
    assert grid[0, 0, 0] == 128
