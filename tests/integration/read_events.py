#!/usr/bin/env python3
"""Independent reader of tailor's TensorBoard event files.

Compiles host/report/tensorboard/event.proto with protoc into a temporary directory, reads
every events.out.tfevents.* file of a run directory with its own TFRecord parser, checks both
masked CRC-32C checksums of every record with python3-crc32c, decodes each Event with
python3-protobuf, and compares every scalar with metrics.jsonl (float32) and every histogram
with class_vectors.jsonl. Exits non-zero with a message on any difference.

usage: read_events.py RUN_DIR SOURCE_DIR EXPECTED_STEP_EVENTS
"""
import glob
import importlib
import json
import os
import struct
import subprocess
import sys
import tempfile

import crc32c


def masked(crc):
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def records(path):
    data = open(path, "rb").read()
    at = 0
    while at < len(data):
        header = data[at:at + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[at + 8:at + 12])
        assert length_crc == masked(crc32c.crc32c(header)), f"{path}: bad length CRC at {at}"
        body = data[at + 12:at + 12 + length]
        (body_crc,) = struct.unpack("<I", data[at + 12 + length:at + 16 + length])
        assert body_crc == masked(crc32c.crc32c(body)), f"{path}: bad data CRC at {at}"
        yield body
        at += 16 + length


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def main():
    run, src, expected_steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
    out = tempfile.mkdtemp()
    proto_dir = os.path.join(src, "host")
    subprocess.check_call(["protoc", f"--proto_path={proto_dir}", f"--python_out={out}",
                           os.path.join(proto_dir, "report/tensorboard/event.proto")])
    sys.path.insert(0, out)
    pb = importlib.import_module("report.tensorboard.event_pb2")

    files = sorted(glob.glob(os.path.join(run, "events.out.tfevents.*")))
    assert files, f"no event file in {run}"
    scalars, histograms, steps, versions = {}, {}, 0, 0
    for path in files:
        for body in records(path):
            e = pb.Event()
            e.ParseFromString(body)
            if e.WhichOneof("what") == "file_version":
                assert e.file_version == "brain.Event:2", e.file_version
                versions += 1
                continue
            for v in e.summary.value:
                if v.WhichOneof("value") == "simple_value":
                    if v.tag.startswith("step/"):
                        assert v.tag in ("step/loss", "step/lr"), v.tag
                        steps += v.tag == "step/loss"
                    else:
                        scalars[(v.tag, e.step)] = v.simple_value
                else:
                    histograms[(v.tag, e.step)] = v.histo
    assert versions == len(files), "every file starts with its file_version record"

    # Every scalar of metrics.jsonl, exactly as float32, and nothing else.
    expected = {}
    for line in open(os.path.join(run, "metrics.jsonl")):
        r = json.loads(line)
        split, epoch = r["split"], r["epoch"]
        for key in ("loss", "lr", "top1", "top5", "mean_class_recall", "mean_class_precision",
                    "ece", "tau"):
            if isinstance(r.get(key), (int, float)):
                expected[(f"{split}/{key}", epoch)] = f32(r[key])
        for g in ("many", "medium", "few"):
            if isinstance(r.get(g), dict) and r[g]["classes"] > 0:
                expected[(f"{split}/{g}", epoch)] = f32(r[g]["accuracy"])
                expected[(f"{split}/{g}_ece", epoch)] = f32(r[g]["ece"])
    assert scalars == expected, (
        f"scalars differ: missing {sorted(set(expected) - set(scalars))[:5]}, "
        f"extra {sorted(set(scalars) - set(expected))[:5]}, "
        f"unequal {[k for k in expected if k in scalars and scalars[k] != expected[k]][:5]}")

    # Every per-class vector as a histogram over its classes.
    vectors = {}
    path = os.path.join(run, "class_vectors.jsonl")
    if os.path.exists(path):
        for line in open(path):
            r = json.loads(line)
            for name, values in r["vectors"].items():
                vectors[(f"class_vectors/{name}", r["epoch"])] = values
    assert set(histograms) == set(vectors), (sorted(histograms), sorted(vectors))
    for key, values in vectors.items():
        h = histograms[key]
        assert h.num == len(values) == sum(h.bucket), key
        assert abs(h.sum - sum(values)) < 1e-9 * max(1.0, abs(h.sum)), key
        assert h.min == min(values) and h.max == max(values), key
        assert list(h.bucket_limit) == sorted(h.bucket_limit) and h.bucket_limit[-1] == h.max, key

    assert steps == expected_steps, f"{steps} step scalars, expected {expected_steps}"
    print(f"read {len(files)} event file(s): {len(scalars)} epoch scalars, "
          f"{len(histograms)} histograms, {steps} step scalars; all checksums good")


if __name__ == "__main__":
    main()
