#!/usr/bin/env python3
"""The reference for `scanscribe fixations`: pymovements on the same gaze CSV, end to
end (reading the CSV, pixels to degrees, velocities, detection). The CSV's coordinates
are display-normalized, so the screen is given as 1 x 1 "pixels" of the real size in
cm: the same geometry without rewriting the file. Usage: METHOD(ivt|idt) CSV.
Prints the fixation count and the seconds taken."""

import json
import sys
import time

start = time.perf_counter()
import pymovements as pm  # noqa: E402

method, path = sys.argv[1], sys.argv[2]
experiment = pm.Experiment(
    screen_width_px=1,
    screen_height_px=1,
    screen_width_cm=53.1,
    screen_height_cm=29.9,
    distance_cm=65.0,
    origin="upper left",
    sampling_rate=500,
)
gaze = pm.gaze.from_csv(
    path,
    experiment=experiment,
    time_column="system_time_us",
    time_unit="us",
    pixel_columns=["left_x", "left_y"],
)
gaze.pix2deg()
if method == "ivt":
    gaze.pos2vel(method="smooth")
    gaze.detect("ivt", velocity_threshold=30.0, minimum_duration=60)
else:
    gaze.detect("idt", dispersion_threshold=1.0, minimum_duration=100)
fixations = gaze.events.frame.filter(gaze.events.frame["name"].str.starts_with("fixation"))
elapsed = time.perf_counter() - start
print(json.dumps({"method": method, "fixations": fixations.height, "seconds": elapsed}))
