"""PyAV reference for bench_video_decode: the same TSN frame selection and decode.

For each clip: the frame count from the stream header, TSN indices (numpy.linspace; eval:
segment middles, train: random.randrange per segment), decode in order up to the last
picked frame on one decoder thread, picked frames converted to RGB numpy arrays.
"""
import argparse
import glob
import random
import time

import av
import numpy as np


def tsn(n, nf, train):
    b = np.linspace(0, n - 1, nf + 1)
    if train:
        return [random.randrange(int(b[i]), int(b[i + 1])) for i in range(nf)]
    return [int((b[i] + b[i + 1]) // 2) for i in range(nf)]


def decode(path, nf, train):
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "SLICE"
        stream.codec_context.thread_count = 1
        wanted = tsn(stream.frames, nf, train)
        last = max(wanted)
        keep = set(wanted)
        frames = {}
        for i, frame in enumerate(container.decode(stream)):
            if i in keep:
                frames[i] = frame.to_ndarray(format="rgb24")
            if i >= last:
                break
        return [frames[i] for i in wanted]


def run(clips, seconds, nf, train):
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for path in clips:
            decode(path, nf, train)
            done += 1
    return done / (time.perf_counter() - start)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--seconds", type=float, default=5)
    p.add_argument("--frames", type=int, default=10)
    a = p.parse_args()
    clips = sorted(glob.glob(a.dir + "/*.mp4"))
    random.seed(0)
    print(f"pyav decode eval {run(clips, a.seconds, a.frames, False):.2f} clips/s")
    print(f"pyav decode train {run(clips, a.seconds, a.frames, True):.2f} clips/s")


if __name__ == "__main__":
    main()
