"""The project's seeded PRNG (common/rng.ts), bit for bit: xoshiro128** seeded
through splitmix32 from integer keys. Only what the data stream needs (u32,
uniform), so that the kernel's row order is the TypeScript trainer's."""

M = 0xFFFFFFFF
TWO_POW_32 = 4294967296.0


def _mix32(x: int) -> int:
    x &= M
    x = ((x ^ (x >> 16)) * 0x85EBCA6B) & M
    x = ((x ^ (x >> 13)) * 0xC2B2AE35) & M
    return (x ^ (x >> 16)) & M


def _rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & M


class Rng:
    def __init__(self, *keys: int) -> None:
        h = 0x9E3779B9
        for k in keys:
            h = _mix32(h ^ _mix32((k & M) + 0x632BE59B))
        words = []
        for _ in range(4):
            h = (h + 0x9E3779B9) & M
            words.append(_mix32(h))
        self.s0, self.s1, self.s2, self.s3 = words[0], words[1], words[2], words[3] | 1

    def u32(self) -> int:
        s1 = self.s1
        r = (_rotl((s1 * 5) & M, 7) * 9) & M
        t = (s1 << 9) & M
        self.s2 ^= self.s0
        self.s3 ^= s1
        self.s1 ^= self.s2
        self.s0 ^= self.s3
        self.s2 ^= t
        self.s3 = _rotl(self.s3, 11)
        return r

    def uniform(self) -> float:
        """Uniform in the open interval (0, 1)."""
        return (self.u32() + 0.5) / TWO_POW_32


def shuffled(items: list, rng: Rng) -> list:
    """A seeded Fisher-Yates shuffle (a copy), as ml/data.ts's `shuffled`."""
    out = list(items)
    for i in range(len(out) - 1, 0, -1):
        j = int(rng.uniform() * (i + 1))
        out[i], out[j] = out[j], out[i]
    return out
