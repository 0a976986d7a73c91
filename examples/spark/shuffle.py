"""Sums shuffle bytes written and read over a Spark event log directory and prints one JSON
line with the run's size and time. Usage: shuffle.py EVENT_DIR INTERACTIONS ITEMS SECONDS"""
import glob
import json
import os
import sys

events, interactions, items, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
written = read = records = 0
for path in (p for p in glob.glob(events + "/**", recursive=True) if os.path.isfile(p)):
    with open(path) as f:
        for line in f:
            event = json.loads(line)
            if event.get("Event") != "SparkListenerTaskEnd":
                continue
            metrics = event.get("Task Metrics") or {}
            shuffle_write = metrics.get("Shuffle Write Metrics", {})
            shuffle_read = metrics.get("Shuffle Read Metrics", {})
            written += shuffle_write.get("Shuffle Bytes Written", 0)
            records += shuffle_write.get("Shuffle Records Written", 0)
            read += shuffle_read.get("Remote Bytes Read", 0) + shuffle_read.get("Local Bytes Read", 0)
print(json.dumps({"interactions": interactions, "items": items, "seconds": seconds, "shuffle_written_mb": round(written / 2**20, 1),
                  "shuffle_read_mb": round(read / 2**20, 1), "shuffle_records": records}))
