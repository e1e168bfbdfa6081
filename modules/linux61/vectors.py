import struct
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.poly1305 import Poly1305
m=b"123456789"
# crc7_be as lib/crc7.c: table MSB-first poly 0x09<<1, crc left-aligned
def crc7_be(crc,data):
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = ((crc<<1) ^ 0x12) & 0xff if crc & 0x80 else (crc<<1)&0xff
    return crc
print("crc7_be", hex(crc7_be(0,m)), "catalogue CRC-7/MMC 0x75 <<1 =", hex(0x75<<1))
def crc8_msb(poly,data,crc):
    for b in data:
        crc^=b
        for _ in range(8):
            crc = ((crc<<1)^poly)&0xff if crc&0x80 else (crc<<1)&0xff
    return crc
print("crc8 0x07 init0", hex(crc8_msb(7,m,0)))
def crc16(crc,data):
    for b in data:
        crc^=b
        for _ in range(8):
            crc = (crc>>1)^0xA001 if crc&1 else crc>>1
    return crc
print("crc16", hex(crc16(0,m)))
def itu(crc,data):
    for b in data:
        crc ^= b<<8
        for _ in range(8):
            crc = ((crc<<1)^0x1021)&0xffff if crc&0x8000 else (crc<<1)&0xffff
    return crc
print("crc_itu_t init0", hex(itu(0,m)), "init ffff", hex(itu(0xffff,m)))
def crc64be(crc,data):
    P=0x42F0E1EBA9EA3693
    for b in data:
        crc ^= b<<56
        for _ in range(8):
            crc = ((crc<<1)^P)&(2**64-1) if crc>>63 else (crc<<1)&(2**64-1)
    return crc
print("crc64_be", hex(crc64be(0,m)))
def rocksoft(crc,data):
    crc ^= 2**64-1
    for b in data:
        crc^=b
        for _ in range(8):
            crc = (crc>>1)^0x9A6C9329AC4BC9B5 if crc&1 else crc>>1
    return crc ^ (2**64-1)
print("crc64_rocksoft", hex(rocksoft(0,m)))
for s,u in [("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4","e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"),
 ("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d","e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493")]:
    k=X25519PrivateKey.from_private_bytes(bytes.fromhex(s))
    print("x25519", k.exchange(X25519PublicKey.from_public_bytes(bytes.fromhex(u))).hex())
key=bytes.fromhex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b")
print("poly1305", Poly1305.generate_tag(key,b"Cryptographic Forum Research Group").hex())
def rc4(key,n):
    S=list(range(256));j=0
    for i in range(256):
        j=(j+S[i]+key[i%len(key)])&255; S[i],S[j]=S[j],S[i]
    i=j=0;out=[]
    for _ in range(n):
        i=(i+1)&255;j=(j+S[i])&255;S[i],S[j]=S[j],S[i];out.append(S[(S[i]+S[j])&255])
    return bytes(out)
print("rc4", rc4(bytes([1,2,3,4,5]),32).hex())
def md4(msg):
    def F(x,y,z): return (x&y)|(~x&z)
    def G(x,y,z): return (x&y)|(x&z)|(y&z)
    def H(x,y,z): return x^y^z
    rol=lambda x,n:((x<<n)|(x>>(32-n)))&0xffffffff
    ml=len(msg)*8
    msg+=b"\x80"+b"\0"*((55-len(msg))%64)+struct.pack("<Q",ml)
    a,b,c,d=0x67452301,0xefcdab89,0x98badcfe,0x10325476
    for o in range(0,len(msg),64):
        X=struct.unpack("<16I",msg[o:o+64]);A,B,C,D=a,b,c,d
        for i in range(16):
            k=i; s=[3,7,11,19][i%4]
            A,B,C,D=D,rol((A+F(B,C,D)+X[k])&0xffffffff,s),B,C
        for i in range(16):
            k=(i%4)*4+i//4; s=[3,5,9,13][i%4]
            A,B,C,D=D,rol((A+G(B,C,D)+X[k]+0x5a827999)&0xffffffff,s),B,C
        for i in range(16):
            k=[0,8,4,12,2,10,6,14,1,9,5,13,3,11,7,15][i]; s=[3,9,11,15][i%4]
            A,B,C,D=D,rol((A+H(B,C,D)+X[k]+0x6ed9eba1)&0xffffffff,s),B,C
        a,b,c,d=[(x+y)&0xffffffff for x,y in zip((a,b,c,d),(A,B,C,D))]
    return struct.pack("<4I",a,b,c,d).hex()
for s in [b"",b"a",b"abc",b"message digest",b"abcdefghijklmnopqrstuvwxyz",b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",b"1234567890"*8]:
    print("md4", s[:12], md4(s))
