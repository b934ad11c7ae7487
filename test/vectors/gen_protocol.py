#!/usr/bin/env python3
"""Writes test/vectors/protocol.json: COBS cases, CRC values and the exact bytes of a frame of every message
type in docs/protocol.md. Written in Python (struct, zlib) on purpose: an oracle independent of both the
TypeScript (src/link) and the C (firmware/core) implementations it checks.

    /usr/bin/python3 test/vectors/gen_protocol.py > test/vectors/protocol.json
"""
import json
import struct
import zlib


def cobs_encode(data: bytes) -> bytes:
    # Reference COBS, written from the algorithm's definition: split at zeros, cap blocks at 254 bytes. A
    # full 254-byte block carries no implied zero, so when the data ends right after one, nothing follows.
    out = bytearray()
    block = bytearray()
    ended_full = False
    for b in data:
        ended_full = False
        if b == 0:
            out.append(len(block) + 1)
            out += block
            block = bytearray()
        else:
            block.append(b)
            if len(block) == 254:
                out.append(255)
                out += block
                block = bytearray()
                ended_full = True
    if not ended_full:
        out.append(len(block) + 1)
        out += block
    return bytes(out)


def hx(b: bytes) -> str:
    return b.hex()


# Wikipedia's COBS examples (the canonical encoding), plus the empty input.
seq254 = bytes(range(1, 255))
cobs_cases = [
    ("empty", b"", bytes([0x01])),
    ("one zero", b"\x00", bytes([0x01, 0x01])),
    ("two zeros", b"\x00\x00", bytes([0x01, 0x01, 0x01])),
    ("zero 11 zero", b"\x00\x11\x00", bytes([0x01, 0x02, 0x11, 0x01])),
    ("11 22 00 33", b"\x11\x22\x00\x33", bytes([0x03, 0x11, 0x22, 0x02, 0x33])),
    ("no zero", b"\x11\x22\x33\x44", bytes([0x05, 0x11, 0x22, 0x33, 0x44])),
    ("trailing zeros", b"\x11\x00\x00\x00", bytes([0x02, 0x11, 0x01, 0x01, 0x01])),
    ("254 non-zero bytes", seq254, bytes([0xFF]) + seq254),
    ("zero then 254 non-zero", b"\x00" + seq254, bytes([0x01, 0xFF]) + seq254),
    ("255 non-zero bytes", bytes(range(1, 256)), bytes([0xFF]) + seq254 + bytes([0x02, 0xFF])),
    ("254 non-zero then zero", bytes(range(2, 256)) + b"\x00", bytes([0xFF]) + bytes(range(2, 256)) + bytes([0x01, 0x01])),
    ("253 non-zero, zero, one", bytes(range(3, 256)) + b"\x00\x01", bytes([0xFE]) + bytes(range(3, 256)) + bytes([0x02, 0x01])),
    ("508 non-zero bytes", seq254 + seq254, bytes([0xFF]) + seq254 + bytes([0xFF]) + seq254),
]
for name, dec, enc in cobs_cases:
    assert cobs_encode(dec) == enc, name

# Chunks (between delimiters) that must not COBS-decode.
cobs_invalid = [
    ("code past the end", bytes([0x05, 0x11, 0x22])),
    ("255-block cut short", bytes([0xFF]) + bytes(range(1, 100))),
]

crc_cases = [
    ("check string", b"123456789"),
    ("empty", b""),
    ("zeros", bytes(16)),
    ("all byte values", bytes(range(256))),
]


def lp(s: str) -> bytes:
    b = s.encode()
    return bytes([len(b)]) + b


def samples(n, seed):
    # A deterministic int16 pattern reaching both extremes.
    vals = [((i * 7919 + seed * 104729) % 65536) - 32768 for i in range(n)]
    vals[0], vals[-1] = -32768, 32767
    return vals


def i16s(vals):
    return struct.pack("<%dh" % len(vals), *vals)


run_in = samples(128, 1)
run_out = samples(128, 2)
cost = dict(macs_per_cycle=128, weight_bytes_per_cycle=8, elements_per_cycle=8, op_overhead_cycles=200, frontend_cycles=0)
hello_reply = dict(protocol_version=2, max_payload=1024, rx_credit_bytes=4096, model_partition_bytes=4194304,
                   arena_capacity_bytes=262144, clock_hz=500000000, latency_kind=2,
                   firmware_name="hil-firmware", firmware_version="0.1.0", board_name="sim", build_id="0123456789abcdef")
# PRELOADED_FRAME records: a RUN_PRELOADED reply without frame_index.
batch_records = [
    dict(latency=143698 + k, modelled_cycles=31000, macs=23000, weight_bytes=23500, elements=900, ops=20,
         network_latency=120000 + k, output_crc32=zlib.crc32(i16s(samples(128, 10 + k))))
    for k in range(3)
]


def batch_record(r):
    return struct.pack("<QIIIIH2xQI", r["latency"], r["modelled_cycles"], r["macs"], r["weight_bytes"], r["elements"],
                       r["ops"], r["network_latency"], r["output_crc32"])


# Messages: (name, type, seq, fields, payload). `fields` uses the names of docs/protocol.md §3.
messages = [
    ("HELLO", 0x01, 0, dict(protocol_version=2), struct.pack("<H", 2)),
    ("HELLO reply", 0x81, 0, hello_reply,
     struct.pack("<HHIIIIB3x", 2, 1024, 4096, 4194304, 262144, 500000000, 2)
     + lp("hil-firmware") + lp("0.1.0") + lp("sim") + lp("0123456789abcdef")),
    ("CONFIG", 0x02, 1, cost, struct.pack("<5I", 128, 8, 8, 200, 0)),
    ("CONFIG reply", 0x82, 1, {}, b""),
    ("MODEL_BEGIN", 0x10, 2, dict(size=23456, crc32=0xDEADBEEF), struct.pack("<II", 23456, 0xDEADBEEF)),
    ("MODEL_BEGIN reply", 0x90, 2, {}, b""),
    ("MODEL_CHUNK", 0x11, 3, dict(offset=512, data="00010200ff"), struct.pack("<I", 512) + bytes([0, 1, 2, 0, 0xFF])),
    ("MODEL_CHUNK reply", 0x91, 3, dict(bytes_received=517), struct.pack("<I", 517)),
    ("MODEL_ACTIVATE", 0x12, 4, dict(size=23456, crc32=0xDEADBEEF), struct.pack("<II", 23456, 0xDEADBEEF)),
    ("MODEL_ACTIVATE reply", 0x92, 4,
     dict(blob_bytes=23456, arena_bytes=12800, n_tensors=24, n_ops=20, n_fft=512, hop=128, model_id=0x01020304),
     struct.pack("<IIHHHHI", 23456, 12800, 24, 20, 512, 128, 0x01020304)),
    ("STREAM_RESET", 0x20, 5, {}, b""),
    ("STREAM_RESET reply", 0xA0, 5, {}, b""),
    ("RUN_FRAME", 0x21, 6, dict(frame_index=7, samples=run_in), struct.pack("<I", 7) + i16s(run_in)),
    ("RUN_FRAME reply", 0xA1, 6,
     dict(frame_index=7, latency=0x123456789, modelled_cycles=31000, macs=23000, weight_bytes=23500, elements=900, ops=20,
          network_latency=0x1020304050, samples=run_out),
     struct.pack("<IQIIIIHHQ", 7, 0x123456789, 31000, 23000, 23500, 900, 20, 0, 0x1020304050) + i16s(run_out)),
    ("GET_STATS", 0x30, 7, {}, b""),
    ("GET_STATS reply", 0xB0, 7,
     dict(image_flash_bytes=61234, model_flash_bytes=23456, static_sram_bytes=9000, arena_bytes=12800,
          stack_high_water_bytes=3100, stack_size_bytes=262144, frames_run=1000),
     struct.pack("<7I", 61234, 23456, 9000, 12800, 3100, 262144, 1000)),
    ("RESET", 0x3F, 8, {}, b""),
    ("RESET reply", 0xBF, 8, {}, b""),
    ("LOG", 0x7E, 0, dict(level=1, text="stack painted"), bytes([1]) + b"stack painted"),
    ("ERROR", 0x7F, 9, dict(code=3, message="RUN_FRAME: no active model (send MODEL_ACTIVATE first)"),
     struct.pack("<H", 3) + b"RUN_FRAME: no active model (send MODEL_ACTIVATE first)"),
    # A compatible extension of version 2: the output hop's CRC-32 instead of its samples.
    ("RUN_FRAME_CRC", 0x22, 10, dict(frame_index=7, samples=run_in), struct.pack("<I", 7) + i16s(run_in)),
    ("RUN_FRAME_CRC reply", 0xA2, 10,
     dict(frame_index=7, latency=0x123456789, modelled_cycles=31000, macs=23000, weight_bytes=23500, elements=900, ops=20,
          network_latency=0x1020304050, output_crc32=zlib.crc32(i16s(run_out))),
     struct.pack("<IQIIIIHHQI", 7, 0x123456789, 31000, 23000, 23500, 900, 20, 0, 0x1020304050, zlib.crc32(i16s(run_out)))),
    ("RUN_PRELOADED", 0x23, 11, dict(frame_index=8, input_offset=4096), struct.pack("<II", 8, 4096)),
    ("RUN_PRELOADED reply", 0xA3, 11,
     dict(frame_index=8, latency=5000, modelled_cycles=31000, macs=23000, weight_bytes=23500, elements=900, ops=20,
          network_latency=4000, output_crc32=0xCAFEF00D),
     struct.pack("<IQIIIIHHQI", 8, 5000, 31000, 23000, 23500, 900, 20, 0, 4000, 0xCAFEF00D)),
    # n RUN_PRELOADED in one request; the reply's records are PRELOADED_FRAME (batch_records below).
    ("RUN_PRELOADED_BATCH", 0x24, 12, dict(first_frame_index=16, input_offset=8192, n_frames=3),
     struct.pack("<IIH", 16, 8192, 3)),
    ("RUN_PRELOADED_BATCH reply", 0xA4, 12,
     dict(first_frame_index=16, n_frames=3, records=hx(b"".join(batch_record(r) for r in batch_records))),
     struct.pack("<IH2x", 16, 3) + b"".join(batch_record(r) for r in batch_records)),
]


def raw_frame(mtype, flags, seq, payload):
    head = struct.pack("<BBHH", mtype, flags, seq, len(payload)) + payload
    return head + struct.pack("<I", zlib.crc32(head))


frames = []
for name, mtype, seq, fields, payload in messages:
    raw = raw_frame(mtype, 0, seq, payload)
    frames.append(dict(name=name, type=mtype, flags=0, seq=seq, fields=fields, payload=hx(payload), raw=hx(raw),
                       crc=zlib.crc32(raw[:-4]), wire=hx(b"\x00" + cobs_encode(raw) + b"\x00")))
# A retransmission: same seq, flags bit 0 set.
raw = raw_frame(0x21, 1, 6, messages[12][4])
frames.append(dict(name="RUN_FRAME retransmission", type=0x21, flags=1, seq=6, fields=messages[12][3],
                   payload=hx(messages[12][4]), raw=hx(raw), crc=zlib.crc32(raw[:-4]),
                   wire=hx(b"\x00" + cobs_encode(raw) + b"\x00")))
# A frame whose COBS encoding has a 255-byte block (a payload with a long non-zero run).
long_payload = struct.pack("<I", 9) + bytes([0x11] * 600)
raw = raw_frame(0x11, 0, 0xFFFF, long_payload)
frames.append(dict(name="MODEL_CHUNK with long non-zero run", type=0x11, flags=0, seq=0xFFFF,
                   fields=dict(offset=9, data="11" * 600), payload=hx(long_payload), raw=hx(raw),
                   crc=zlib.crc32(raw[:-4]), wire=hx(b"\x00" + cobs_encode(raw) + b"\x00")))

good = raw_frame(0x30, 0, 7, b"")
bad_crc = bytearray(good)
bad_crc[-1] ^= 0x01
bad_len = bytearray(raw_frame(0x02, 0, 1, struct.pack("<5I", 128, 8, 8, 200, 0)))
bad_len[4] = 19  # len field says 19, the chunk carries 20
bad_len = bytes(bad_len[:-4]) + struct.pack("<I", zlib.crc32(bytes(bad_len[:-4])))
dropped = [
    ("bad CRC", hx(cobs_encode(bytes(bad_crc)))),
    ("shorter than 10 bytes", hx(cobs_encode(good[:9]))),
    ("len disagrees with length", hx(cobs_encode(bad_len))),
    ("does not COBS-decode", hx(bytes([0x09, 0x30, 0x01, 0x07]))),
]

# RUN_FRAME_CRC / RUN_PRELOADED: the CRC-32 of an output hop's int16 samples, little-endian.
output_crc_cases = [
    ("silence, hop 4", [0, 0, 0, 0]),
    ("extremes and signs", [32767, -32768, -1, 1, 256, -256]),
    ("ramp, hop 128", [(i * 517) % 65536 - 32768 for i in range(128)]),
]

print(json.dumps({
    "_comment": "Generated by test/vectors/gen_protocol.py (Python struct + zlib, independent of src/link and "
                "firmware/core). docs/protocol.md is the contract. Hex strings; 'wire' includes both 0x00 delimiters, "
                "'raw' is the frame before COBS, cobs.encoded excludes delimiters. 'dropped' are chunks (between "
                "delimiters) a receiver must drop without answering.",
    "crc32": [dict(name=n, data=hx(d), crc=zlib.crc32(d)) for n, d in crc_cases],
    "cobs": [dict(name=n, decoded=hx(d), encoded=hx(e)) for n, d, e in cobs_cases],
    "cobs_invalid": [dict(name=n, encoded=hx(e)) for n, e in cobs_invalid],
    "frames": frames,
    "dropped": [dict(name=n, chunk=c) for n, c in dropped],
    "preloaded_frame_records": batch_records,
    "output_crc32": [dict(name=n, samples=v, crc=zlib.crc32(struct.pack("<%dh" % len(v), *v))) for n, v in output_crc_cases],
}, indent=1))
