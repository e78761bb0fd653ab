"""RFC 2833 (4733) key presses as pcap files for SIPp's ``play_pcap_audio`` (pure: bytes out).

The recordings in ``/usr/share/sip-tester`` each carry fixed RTP sequence numbers and
timestamps, so Asterisk takes a second press of the same key for a retransmission of the
first and drops it (and drops keys whose sequence numbers go backwards). A call's presses are
therefore generated here: one RTP stream whose sequence numbers and timestamps only grow,
one file per group of keys, a key lasting ``KEY_SECONDS`` with ``GAP_SECONDS`` between keys.
SIPp sends only the UDP payloads, to the media address from the SDP; the addresses written in
the file (127.0.0.1) are not used.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

EVENTS = {**{str(digit): digit for digit in range(10)}, "*": 10, "#": 11}
PAYLOAD_TYPE = 101
RATE = 8000
PACKET_SECONDS = 0.02
KEY_PACKETS = 8  # 160 ms of tone, then three end packets
GAP_SECONDS = 0.25
SSRC = 0x1E2E0001


@dataclass
class RtpClock:
    """Where the call's RTP stream is: the next sequence number and timestamp."""

    seq: int = 1000
    timestamp: int = 8000

    def advance(self, seconds: float) -> None:
        self.timestamp = (self.timestamp + int(seconds * RATE)) & 0xFFFFFFFF


def group_seconds(keys: str) -> float:
    """How long the file for ``keys`` plays."""
    per_key = (KEY_PACKETS + 1) * PACKET_SECONDS
    return len(keys) * per_key + max(0, len(keys) - 1) * GAP_SECONDS


def pcap(keys: str, clock: RtpClock) -> bytes:
    """A pcap file that presses ``keys``; ``clock`` moves past them."""
    records: list[tuple[float, bytes]] = []
    at = 0.0
    for index, key in enumerate(keys):
        if key not in EVENTS:
            raise ValueError(f"no RFC 2833 event for {key!r}")
        if index:
            at += GAP_SECONDS
            clock.advance(GAP_SECONDS)
        event_start = clock.timestamp
        for packet in range(KEY_PACKETS + 3):
            end = packet >= KEY_PACKETS
            duration = min(packet, KEY_PACKETS) * int(PACKET_SECONDS * RATE)
            payload = struct.pack(
                "!BBH", EVENTS[key], (0x80 if end else 0) | 10, duration
            )  # event, E bit and volume 10 dBm0, duration
            header = struct.pack(
                "!BBHII",
                0x80,
                (0x80 if packet == 0 else 0) | PAYLOAD_TYPE,
                clock.seq & 0xFFFF,
                event_start,
                SSRC,
            )
            clock.seq += 1
            records.append((at + min(packet, KEY_PACKETS) * PACKET_SECONDS, header + payload))
        at += (KEY_PACKETS + 1) * PACKET_SECONDS
        clock.advance((KEY_PACKETS + 1) * PACKET_SECONDS)
    return _pcap_file(records)


def _pcap_file(records: list[tuple[float, bytes]]) -> bytes:
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]  # Ethernet link type
    for at, rtp in records:
        frame = _ethernet_ipv4_udp(rtp)
        seconds = int(at)
        out.append(struct.pack("<IIII", seconds, int((at - seconds) * 1e6), len(frame), len(frame)))
        out.append(frame)
    return b"".join(out)


def _ethernet_ipv4_udp(payload: bytes, port: int = 10000) -> bytes:
    udp = struct.pack("!HHHH", port, port, 8 + len(payload), 0) + payload
    loopback = bytes([127, 0, 0, 1])
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, loopback, loopback)
    ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
    ethernet = bytes(6) + bytes(6) + b"\x08\x00"
    return ethernet + ip + udp


def _checksum(header: bytes) -> int:
    total: int = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF
