#!/usr/bin/env python3
"""Derive the SRTP known-answer vectors used by media/srtp.c, independently
of libsrtp2, from the RFC 3711 definitions (python3-cryptography for AES).

1. Checks the AES-CM keystream generator against RFC 3711 Appendix B.2.
2. Checks the key derivation (section 4.3) against Appendix B.3: from the
   B.3 master key and salt it must give the published session keys.
3. Protects a fixed RTP packet with the B.3 master key for
   AES_CM_128_HMAC_SHA1_80 and _32 (section 3/4: AES-CM over the payload,
   HMAC-SHA1 over the header, ciphertext and ROC), and for
   AEAD_AES_128_GCM (RFC 7714 section 8: IV from salt, SSRC, ROC, SEQ; the
   header as associated data; 16-octet tag) with the B.3 master key and
   the first 12 octets of its salt; the GCM session keys come from the same
   AES-CM PRF (RFC 7714 section 11), the 96-bit master salt padded with 16
   zero bits on the right to RFC 3711's 112 bits. That alignment is the one
   libsrtp2 (the reference implementation) uses; the right-aligned variant
   would give different keys, so it is the one choice here not taken from
   an RFC test vector.
Prints the C initialisers. Run: python3 gen-srtp-kat.py
"""
import hmac, hashlib
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

H = bytes.fromhex

def aes_cm(key, iv16, n):
    enc = Cipher(algorithms.AES(key), modes.CTR(iv16)).encryptor()
    return enc.update(b"\0" * n)

# 1. RFC 3711 B.2
ks = aes_cm(H("2B7E151628AED2A6ABF7158809CF4F3C"), H("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000"), 3 * 16)
assert ks == H("E03EAD0935C95E80E166B16DD92B4EB4" "D23513162B02D0F72A43A2FE4A5F97AB"
               "41E95B3BB0A2E8DD477901E4FCA894C0"), ks.hex()
ks = aes_cm(H("2B7E151628AED2A6ABF7158809CF4F3C"), H("F0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF"), 3 * 16)
assert ks == H("EC8CDF7398607CB0F2D21675EA9EA1E4" "362B7C3C6773516318A077D7FC5073AE"
               "6A2CC3787889374FBEB4C81B17BA6C44"), ks.hex()

# 2. RFC 3711 4.3 and B.3 (kdr 0: r = 0)
def kdf(mkey, msalt, label, n):
    salt = int.from_bytes(msalt, "big")           # right-aligned with key_id
    x = salt ^ (label << 48)
    return aes_cm(mkey, (x << 16).to_bytes(16, "big"), n)

MK = H("E1F97A0D3E018BE0D64FA32C06DE4139")
MS = H("0EC675AD498AFEEBB6960B3AABE6")
assert kdf(MK, MS, 0, 16) == H("C61E7A93744F39EE10734AFE3FF7A087")
assert kdf(MK, MS, 2, 14) == H("30CBBC08863D8C85D49DB34A9AE1")
assert kdf(MK, MS, 1, 94) == H(
    "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA48F0A0ACF3C34E2359E6CDBCE"
    "E049646C43D9327AD175578EF72270986371C10C9A369AC2F94A8C5FBCDDDC25"
    "6D6E919A48B610EF17C2041E474035766B68642C59BBFC2F34DB60DBDFB2")

# 3. a fixed RTP packet: V=2 PT=0 seq 0x1234 ts 0xDECAFBAD SSRC 0xCAFEBABE, 32 payload octets
hdr = H("80001234DECAFBADCAFEBABE")
payload = bytes((0xD5 ^ i) for i in range(32))
seq, ssrc, roc = 0x1234, 0xCAFEBABE, 0

def protect_cm(tag_len):
    k_e, k_s, k_a = kdf(MK, MS, 0, 16), kdf(MK, MS, 2, 14), kdf(MK, MS, 1, 20)
    index = (roc << 16) | seq
    iv = (int.from_bytes(k_s, "big") << 16) ^ (ssrc << 64) ^ (index << 16)
    ct = bytes(a ^ b for a, b in zip(payload, aes_cm(k_e, iv.to_bytes(16, "big"), len(payload))))
    tag = hmac.new(k_a, hdr + ct + roc.to_bytes(4, "big"), hashlib.sha1).digest()[:tag_len]
    return hdr + ct + tag

def protect_gcm():
    ms12 = MS[:12] + bytes(2)           # padded on the right
    k_e, k_s = kdf(MK, ms12, 0, 16), kdf(MK, ms12, 2, 14)[:12]
    iv = bytes(2) + ssrc.to_bytes(4, "big") + roc.to_bytes(4, "big") + seq.to_bytes(2, "big")
    iv = bytes(a ^ b for a, b in zip(iv, k_s))
    return hdr + AESGCM(k_e).encrypt(iv, payload, hdr)

def c_array(b):
    return ", ".join("0x%02x" % x for x in b)

print("plain  (%d): %s" % (len(hdr + payload), c_array(hdr + payload)))
for name, pkt in (("AES_CM_128_HMAC_SHA1_80", protect_cm(10)),
                  ("AES_CM_128_HMAC_SHA1_32", protect_cm(4)),
                  ("AEAD_AES_128_GCM", protect_gcm())):
    print("%s (%d): %s" % (name, len(pkt), c_array(pkt)))
