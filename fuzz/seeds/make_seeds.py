#!/usr/bin/env python3
"""Cuts the seeds of the newer fuzz targets from fixtures/wire/ and the golden bytes in src/ tests.
Run from anywhere: python3 fuzz/seeds/make_seeds.py (needs tshark for one CertificateRequest)."""
import os, glob, re, struct
os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
def out(target, name, data):
    d=f'fuzz/seeds/{target}'; os.makedirs(d, exist_ok=True)
    open(f'{d}/{name}','wb').write(bytes(data))
def rd(p): return bytes.fromhex(open(p).read().strip())
# TLS
for p in sorted(glob.glob('fixtures/wire/tls/*.hex')):
    base=os.path.basename(p)[:-4]; b=rd(p)
    if base.startswith('ssl-v2'):
        out('sslv2', base, b); continue
    i=0; n=0; hs=b''
    while i+5<=len(b):
        ln=struct.unpack('>H',b[i+3:i+5])[0]; rec=b[i:i+5+ln]
        out('tls_record', f'{base}_rec{n}', rec)
        if b[i]==22: hs+=b[i+5:i+5+ln]
        i+=5+ln; n+=1
    out('tls_handshake', f'{base}_stream', hs)
    j=0; m=0
    while j+4<=len(hs):
        t=hs[j]; ln=int.from_bytes(hs[j+1:j+4],'big'); body=hs[j+4:j+4+ln]
        out('tls_handshake', f'{base}_msg{m}_type{t}_body', body)
        j+=4+ln; m+=1
# alert record (TLS 1.2 fatal handshake_failure) and CCS record as in RFC layout
out('tls_record','alert_handshake_failure', bytes.fromhex('15030300020228'))
out('tls_record','change_cipher_spec', bytes.fromhex('140303000101'))
out('sslv2','sslv2_compatible_client_hello', bytes([0x80,0x1c,0x01,0x03,0x01,0,3,0,0,0,0x10,0,0,0x2f])+bytes(range(1,17)))
# certs
for p in sorted(glob.glob('fixtures/wire/certs/*.der')):
    out('cert', os.path.basename(p)[:-4], open(p,'rb').read())
# credssp / ntlm from src tests
src=open('src/wire/credssp.rs').read()
def hexconst(name, s):
    m=re.search(name+r'[^=]*=\s*"([^"]*)"', s, re.S); return bytes.fromhex(re.sub(r'[\s\\]','',m.group(1)))
def arrconst(name, s):
    m=re.search(r'const '+name+r'[^=]*=\s*\[(.*?)\];', s, re.S)
    body=re.sub(r'//[^\n]*','',m.group(1))
    return bytes(int(x,0) for x in re.findall(r'0x[0-9a-fA-F]+|\b\d+\b', body))
cn=arrconst('CLIENT_NEGOTIATE',src); sc=hexconst('SERVER_CHALLENGE',src); ca=hexconst('CLIENT_AUTHENTICATE',src)
out('credssp','client_negotiate',cn); out('credssp','server_challenge',sc); out('credssp','client_authenticate',ca)
nt=open('src/wire/ntlm.rs').read()
for c in ['SPEC_V2_CHALLENGE','SPEC_V1_CHALLENGE','MIN_CHALLENGE']:
    out('ntlm', c.lower(), arrconst(c, nt))
out('ntlm','win7_challenge', sc[19:])
out('ntlm','negotiate_from_credssp', cn[17:])
i=ca.find(b'NTLMSSP\0'); out('ntlm','win7_authenticate', ca[i:])
# early auth
out('early_auth','authz_success', bytes(4)); out('early_auth','authz_access_denied', bytes([5,0,0,0]))
# mcs: strip TPKT(4)+X.224 DT(3)
for p in sorted(glob.glob('fixtures/wire/mcs/*.hex')):
    out('mcs', os.path.basename(p)[:-4], rd(p)[7:])
for name,h in [('disconnect_ultimatum_rdp003_f431','2180'),('erect_domain','0401000100'),('attach_user_request','28'),
    ('attach_user_confirm','2e000007'),('channel_join_request','38000703f0'),('channel_join_confirm','3e000007 03eb03eb'),
    ('channel_join_refused','3c60000703f5'),('send_data_security_exchange','6400 0703eb7008 0102 0000 48000000'),
    ('send_data_indication_encrypted_rdp003_f430','68000103eb701008081000bdda349825c5ad3abe804796')]:
    out('mcs', name, bytes.fromhex(h.replace(' ','')))
sl=open('src/wire/mcs/slow_path.rs').read()
out('mcs','set_error_info_user_data', arrconst('SET_ERROR_INFO', sl))
# a CertificateRequest body: zeek-tls__certificate-request-failed.pcap frame 6
import subprocess
h=subprocess.check_output(['tshark','-r','fixtures/pcaps/zeek-tls__certificate-request-failed.pcap','-Y','frame.number==6','-T','fields','-e','tcp.payload'],stderr=subprocess.DEVNULL).decode().strip()
b=bytes.fromhex(h.split(',')[0]); i=0
while i+5<=len(b):
    ln=struct.unpack('>H',b[i+3:i+5])[0]; frag=b[i+5:i+5+ln]; j=0
    while j+4<=len(frag):
        t=frag[j]; l=int.from_bytes(frag[j+1:j+4],'big')
        if t==13: out('tls_handshake','certificate-request-failed_f6_certificate_request_body',frag[j+4:j+4+l])
        j+=4+l
    i+=5+ln
for root,_,files in os.walk('fuzz/seeds'):
    for f in files:
        if os.path.getsize(os.path.join(root,f))==0: os.remove(os.path.join(root,f))
