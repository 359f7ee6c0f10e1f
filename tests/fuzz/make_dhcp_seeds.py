#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_dhcp (tests/fuzz/corpus/dhcp/): server replies as a DHCP server
sends them (OFFER, ACK, NAK, option overload, RFC 3396 split options, routes 121/33) and a few
malformed ones. Each file is one selector byte (bit 0: also run the encode round trip) followed
by the BOOTP payload. Run from the repository root: tests/fuzz/make_dhcp_seeds.py"""
import os
import struct

OUT = "tests/fuzz/corpus/dhcp"


def pkt(opts, op=2, sname=b"", file=b"", yi=b"\x0a\x00\x00\x05", xid=0x12345678):
    b = bytes([op, 1, 6, 0]) + struct.pack(">I", xid) + b"\x00" * 8 + yi + b"\x0a\x00\x00\x01"
    b += b"\x00" * 4 + bytes([2, 0x42, 0xAC, 0x11, 0, 2]) + b"\x00" * 10
    b += sname.ljust(64, b"\x00") + file.ljust(128, b"\x00")
    assert len(b) == 236
    b += bytes([99, 130, 83, 99])
    for code, val in opts:
        b += bytes([code]) if code in (0, 255) else bytes([code, len(val)]) + val
    return b


def ip(*a):
    return bytes(a)


END = (255, b"")
SEEDS = {
    "ack-basic": pkt([(53, b"\x05"), (54, ip(10, 0, 0, 1)), (51, struct.pack(">I", 3600)),
                      (1, ip(255, 255, 255, 0)), (3, ip(10, 0, 0, 1)),
                      (6, ip(10, 0, 0, 1) + ip(8, 8, 8, 8)), (15, b"example.org"), END]),
    "offer-basic": pkt([(53, b"\x02"), (54, ip(10, 0, 0, 1)), (51, struct.pack(">I", 600)),
                        (58, struct.pack(">I", 300)), (59, struct.pack(">I", 525)),
                        (1, ip(255, 255, 0, 0)), END]),
    "nak": pkt([(53, b"\x06"), (54, ip(10, 0, 0, 1)), (56, b"address not available"), END],
               yi=b"\0\0\0\0"),
    "ack-classless": pkt([(53, b"\x05"), (1, ip(255, 255, 255, 0)),
                          (121, bytes([24, 192, 168, 7]) + ip(10, 0, 0, 254) + bytes([0]) +
                           ip(10, 0, 0, 1) + bytes([32, 1, 2, 3, 4]) + ip(10, 0, 0, 9)),
                          (3, ip(10, 0, 0, 1)), END]),
    "ack-static-routes": pkt([(53, b"\x05"),
                              (33, ip(10, 1, 0, 0) + ip(10, 0, 0, 2) + ip(172, 16, 0, 0) +
                               ip(10, 0, 0, 3) + ip(192, 168, 1, 0) + ip(10, 0, 0, 4)),
                              (3, ip(10, 0, 0, 1) + ip(10, 0, 0, 2)), END]),
    "ack-overload": pkt([(53, b"\x05"), (52, b"\x03"), END], sname=bytes([6, 4, 1, 1, 1, 1, 255]),
                        file=bytes([3, 4, 10, 0, 0, 1, 15, 3]) + b"lan" + bytes([255])),
    "ack-rfc3396-split": pkt([(53, b"\x05"), (121, bytes([24, 192, 168])),
                              (121, bytes([9]) + ip(10, 0, 0, 7)), END]),
    "ack-pad-truncated": pkt([(0, b""), (0, b""), (53, b"\x05"), (1, ip(255, 255, 255, 128))]) +
    bytes([6, 200, 1, 2]),
    "ack-bad-mask": pkt([(53, b"\x05"), (1, ip(255, 0, 255, 0)), (15, b"\xff\xfe\x00bad-utf8"), END]),
    "ack-classless-malformed": pkt([(53, b"\x05"), (121, bytes([33, 1, 2, 3, 4, 5, 6, 7, 8, 9])),
                                    (121, bytes([8, 10])), END]),
    "request-not-reply": pkt([(53, b"\x03"), END], op=1),
    "no-type": pkt([(1, ip(255, 255, 255, 0)), END]),
    "type-two-bytes": pkt([(53, b"\x05\x05"), END]),
}

for i, (name, body) in enumerate(SEEDS.items()):
    with open(os.path.join(OUT, name + ".bin"), "wb") as f:
        f.write(bytes([i & 1]) + body)
