"""Enrolls one device through a SCEP server with PyScep (github.com/bikram990/PyScep), a SCEP
client no one in this project wrote: a SHA-1-signed request asking for DNS and e-mail subject
alternative names, key usage and extended key usage.

Usage: pyscep_enroll.py URL CHALLENGE DEVICE EMAIL KEY_BITS OUT_CERT_PEM
Prints one JSON line: {"status": "issued" | "failure" | "pending", "fail_info": ...}.
"""
import json
import re
import sys

# oscrypto 1.3.0 (the newest on PyPI) cannot read OpenSSL versions with a two-digit patch
# number (3.0.10 and later): its regex wants one digit. Fixed upstream, never released; widen
# the pattern while oscrypto loads, and nothing else.
_search = re.search


def _widened(pattern, string, *args, **kwargs):
    if pattern == "\\b(\\d\\.\\d\\.\\d[a-z]*)\\b":
        pattern = "\\b(\\d\\.\\d\\.\\d+[a-z]*)\\b"
    return _search(pattern, string, *args, **kwargs)


re.search = _widened
import oscrypto.asymmetric  # noqa: E402,F401
re.search = _search

from asn1crypto import x509  # noqa: E402
from scep import Client  # noqa: E402
from scep.Client import PKIStatus, ScepCSRBuilder, SigningRequest  # noqa: E402


def main():
    url, challenge, device, email, bits, out = sys.argv[1:7]
    key = SigningRequest.generate_pair(size=int(bits))
    builder = ScepCSRBuilder({"common_name": device}, key.public_key.to_asn1_public_key())
    builder.hash_algo = "sha1"
    # csrbuilder's subject_alt_domains / subject_alt_emails setters each drop the names the
    # other set; give it both kinds at once.
    builder.set_extension("subject_alt_name", x509.GeneralNames([
        x509.GeneralName(name="dns_name", value=device + ".contoso.test"),
        x509.GeneralName(name="rfc822_name", value=email),
    ]))
    builder.key_usage = {"digital_signature", "key_encipherment"}
    builder.extended_key_usage = {"client_auth"}
    builder.password = challenge
    csr = SigningRequest(request=builder.build(key.to_asn1_private_key()))
    identity, identity_key = SigningRequest.generate_self_signed(
        cn=device, key_usage={"digital_signature", "key_encipherment"}, private_key=key)
    result = Client.Client(url).enrol(csr=csr, identity=identity, identity_private_key=identity_key)
    if result.status == PKIStatus.SUCCESS:
        with open(out, "wb") as f:
            f.write(result.certificates[0].to_pem())
        print(json.dumps({"status": "issued"}))
    elif result.status == PKIStatus.PENDING:
        print(json.dumps({"status": "pending"}))
    else:
        print(json.dumps({"status": "failure", "fail_info": str(result.fail_info)}))


if __name__ == "__main__":
    main()
