#!/usr/bin/env python3
"""Contoso Intune Certificate Connector -- an independent second implementation.

Speaks the connector-under-test protocol (docs/vendor-contract.md) as JSON lines on
stdin/stdout and talks to the harness's fakes as docs/wire-contracts.md describes.
Standard library only: DER is parsed and written by hand, RSA signatures are made with
pow(). stderr carries human logs only.

    python3 contoso_connector.py [--mutant NAME] [--list-mutants]

See contoso_connector.md for the design choices.
"""

import base64
import datetime
import hashlib
import http.client
import json
import os
import re
import socket
import sys
import threading
import traceback
import urllib.parse
import uuid

VENDOR = "Contoso"
CALLER_INFO = "Contoso Certificate Connector 1.0"

MUTANTS = {
    "wrong-code": "PKCS issue against an unavailable CA is logged with Unknown_Error instead of PKCS_Issue_CA_Unavailable",
    "wrong-event": "a successful revocation is logged as RevokeCert_Failure (the upload stays correct)",
    "wrong-device": "PkcsCertIssue_Success names the request's device id reversed",
    "other-thumbprint": "PkcsCertIssue_Success carries the issuing CA certificate's thumbprint, not the issued one",
    "upload-before-issue": "a PKCS request's Upload_* event is written before its PkcsCertIssue_* event",
    "no-upload-event": "uploads work but no Upload_Success event is ever written",
    "duplicate-upload": "every recorded PKCS result is uploaded a second time in a separate call",
    "extra-failure": "each successful PKCS upload is also logged as an Upload_Failure",
    "no-stop-event": "on stop the connector checks out but writes no StoppedConnectorService",
    "allow-refused": "a SCEP request Intune refused is still allowed (verify_ok with issue)",
    "no-notify": "the success notification is never sent to Intune (and no notify event is written)",
    "no-renewal": "the registration certificate is never renewed, whatever its expiry",
    "lose-one": "the last request of every PKCS download batch is silently dropped",
    "wrong-serial": "RevokeCert_Success carries a serial number other than the revoked one",
    "stray-reply": "every sync is answered with sync_ok twice",
}

# ---------------------------------------------------------------- catalog constants

EV_STARTED = 10010
EV_STOPPED = 10020
EV_RENEW_OK = 10100
EV_RENEW_FAIL = 10102
EV_RETRIEVE_WARN = 10301
EV_RETRIEVE_ERR = 10302
EV_ISSUE_OK = 20100
EV_ISSUE_FAIL = 20102
EV_REVOKE_OK = 20200
EV_REVOKE_FAIL = 20202
EV_UPLOAD_OK = 20300
EV_UPLOAD_FAIL = 20302
EV_DOWNLOAD_OK = 20400
EV_DOWNLOAD_FAIL = 20402
EV_VERIFY_OK = 20500
EV_VERIFY_WARN = 20501
EV_VERIFY_FAIL = 20502
EV_NOTIFY_OK = 20600
EV_NOTIFY_FAIL = 20602

C_OK = "0x00000000"
C_CA_UNAVAILABLE = "0x00000400"
C_RA_CERT_MISSING = "0x00000401"
C_REVOKE_DENIED = "0x00000402"
C_THUMBPRINT_NOT_FOUND = "0x00000403"
C_CERT_NOT_FOUND = "0x00000404"
C_CERT_EXPIRED = "0x00000405"
C_CRP_CERT_MISSING = "0x00000408"
C_SIGNING_MISSING = "0x00000409"
C_DESERIALIZE = "0x00000410"
C_CHALLENGE_EXPIRED = "0x00000411"
C_UNKNOWN = "0x0FFFFFFF"

INTUNE_SCEP_CODES = {
    "Unknown", "CertificateRequestDecodingFailed", "SignatureValidationFailed",
    "ChallengePasswordMissing", "ChallengeDecodingError", "ChallengeDeserializationError",
    "ChallengeDecryptionError", "ChallengeInvalidTimestamp", "ChallengeExpired",
    "BadCertificateRequestIdInChallenge", "BadDeviceIdInChallenge", "BadUserIdInChallenge",
    "ScepProfileNoLongerTargetedToTheClient", "SubjectNameMissing", "SubjectNameMismatch",
    "SubjectAltNameMissing", "SubjectAltNameMismatch", "KeyUsageMismatch", "KeyLengthMismatch",
    "EnhancedKeyUsageMissing", "EnhancedKeyUsageMismatch", "AadKeyIdentifierListMissing",
    "RegisteredKeyMismatch", "SigningCertThumbprintMismatch",
}

# CARequestErrorCode, written as the Java client writes it (the number as a string).
RC_NONE = "0"
RC_NON_RETRYABLE = "4000"
RC_DATA_SERIALIZATION = "4001"
RC_PARAMETER_INVALID = "4002"
RC_CERT_NOT_FOUND = "4004"
RC_CONFLICT = "4005"
RC_RETRYABLE = "4100"
RC_SERVICE_UNAVAILABLE = "4101"

SVC_SCEP = "ScepRequestValidationFEService"
SVC_REVOKE = "PkiConnectorFEService"
SVC_PKCS = "StatelessPkiConnectorService"
SVC_CRP = "CertificateRegistrationSvc"
SVC_REG = "ConnectorRegistrationService"
API_VERSIONS = {
    SVC_SCEP: "2018-02-20",
    SVC_REVOKE: "5019-05-05",
    SVC_PKCS: "2018-02-20",
    SVC_REG: "2023-06-01",
    SVC_CRP: None,
}

DAY_MS = 86400000


def log(*parts):
    sys.stderr.write("[contoso] " + " ".join(str(p) for p in parts) + "\n")
    sys.stderr.flush()


# ---------------------------------------------------------------- time

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def parse_time_ms(text):
    t = text.strip()
    if t.endswith("Z") or t.endswith("z"):
        t = t[:-1] + "+00:00"
    m = re.match(r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(\.\d+)?(.*)$", t)
    if not m:
        raise ValueError("bad time %r" % text)
    frac = m.group(3) or ""
    ms = int((frac[1:] + "000")[:3]) if frac else 0
    base = datetime.datetime.fromisoformat(m.group(1) + "T" + m.group(2) + (m.group(4) or "+00:00"))
    delta = base - EPOCH
    return (delta.days * 86400 + delta.seconds) * 1000 + ms


def format_ms(ms, millis=True):
    d = EPOCH + datetime.timedelta(milliseconds=ms)
    if millis:
        return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- DER, by hand

# docs/conformance.md, "Vocabularies": a failed call is `sending` (upload) or `requesting`
# (download); an answer that cannot be read is `awaiting_answer` or `parsing`.
UPLOAD_STATE_OF = {"timeout": "sending", "unreachable": "sending", "http_error": "sending",
                   "parsing": "awaiting_answer"}
DOWNLOAD_STATE_OF = {"timeout": "requesting", "unreachable": "requesting",
                     "http_error": "requesting", "parsing": "parsing"}


class DerError(Exception):
    pass


def der_read(buf, off=0):
    """One TLV at off: (tag, value_start, value_end)."""
    if off + 2 > len(buf):
        raise DerError("truncated TLV")
    tag = buf[off]
    off += 1
    if tag & 0x1F == 0x1F:
        raise DerError("high tag numbers not supported")
    first = buf[off]
    off += 1
    if first < 0x80:
        length = first
    else:
        n = first & 0x7F
        if n == 0 or n > 4 or off + n > len(buf):
            raise DerError("bad length")
        length = int.from_bytes(buf[off:off + n], "big")
        off += n
    if off + length > len(buf):
        raise DerError("value runs past the end")
    return tag, off, off + length


def der_children(buf, start, end):
    out = []
    off = start
    while off < end:
        tag, vs, ve = der_read(buf, off)
        out.append((tag, off, vs, ve))
        off = ve
    return out


def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def der(tag, content):
    return bytes([tag]) + der_len(len(content)) + content


def der_seq(*items):
    return der(0x30, b"".join(items))


def der_int(v):
    b = v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big", signed=False)
    if len(b) > 1 and b[0] == 0 and not (b[1] & 0x80):
        b = b[1:]
    return der(0x02, b)


def der_oid(dotted):
    parts = [int(x) for x in dotted.split(".")]
    body = [40 * parts[0] + parts[1]]
    out = bytearray()
    for p in [body[0]] + parts[2:]:
        chunk = [p & 0x7F]
        p >>= 7
        while p:
            chunk.append(0x80 | (p & 0x7F))
            p >>= 7
        out.extend(reversed(chunk))
    return der(0x06, bytes(out))


def oid_to_str(raw):
    vals = []
    acc = 0
    for b in raw:
        acc = (acc << 7) | (b & 0x7F)
        if not b & 0x80:
            vals.append(acc)
            acc = 0
    if not vals:
        return ""
    first = vals[0]
    head = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    return ".".join(str(v) for v in head + vals[1:])


def pem_blocks(text, label):
    pat = re.compile(r"-----BEGIN %s-----(.*?)-----END %s-----" % (label, label), re.S)
    return [base64.b64decode("".join(m.group(1).split())) for m in pat.finditer(text)]


def to_pem(der_bytes, label):
    b64 = base64.b64encode(der_bytes).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, "\n".join(lines), label)


def parse_der_time(tag, raw):
    s = raw.decode("ascii")
    if tag == 0x17:  # UTCTime YYMMDDHHMMSSZ
        yy = int(s[0:2])
        year = 1900 + yy if yy >= 50 else 2000 + yy
        rest = s[2:]
    elif tag == 0x18:  # GeneralizedTime YYYYMMDDHHMMSSZ
        year = int(s[0:4])
        rest = s[4:]
    else:
        raise DerError("not a time")
    mo, dd, hh, mi, ss = (int(rest[i:i + 2]) for i in range(0, 10, 2))
    d = datetime.datetime(year, mo, dd, hh, mi, ss, tzinfo=datetime.timezone.utc)
    delta = d - EPOCH
    return (delta.days * 86400 + delta.seconds) * 1000


class Cert:
    """The parts of an X.509 certificate the connector uses."""

    def __init__(self, der_bytes):
        self.der = der_bytes
        tag, vs, ve = der_read(der_bytes, 0)
        if tag != 0x30:
            raise DerError("certificate is not a SEQUENCE")
        top = der_children(der_bytes, vs, ve)
        if len(top) != 3:
            raise DerError("certificate has %d parts" % len(top))
        _, _, tvs, tve = top[0]
        tbs = der_children(der_bytes, tvs, tve)
        i = 0
        if tbs[0][0] == 0xA0:
            i = 1
        serial_t = tbs[i]
        validity = tbs[i + 3]
        subject = tbs[i + 4]
        spki = tbs[i + 5]
        self.serial = der_bytes[serial_t[2]:serial_t[3]].hex().upper()
        self.subject_der = der_bytes[subject[1]:subject[3]]
        self.spki_der = der_bytes[spki[1]:spki[3]]
        times = der_children(der_bytes, validity[2], validity[3])
        self.not_before = parse_der_time(times[0][0], der_bytes[times[0][2]:times[0][3]])
        self.not_after = parse_der_time(times[1][0], der_bytes[times[1][2]:times[1][3]])
        self.thumbprint = hashlib.sha1(der_bytes).hexdigest().upper()
        self.subject_cn = name_common_name(der_bytes, subject[2], subject[3])
        self.modulus, self.exponent = spki_rsa(self.spki_der)


def name_common_name(buf, start, end):
    """The first commonName of an X.501 Name held in buf[start:end]."""
    for _, _, svs, sve in der_children(buf, start, end):  # RDN SETs
        for _, _, avs, ave in der_children(buf, svs, sve):  # AttributeTypeAndValue
            parts = der_children(buf, avs, ave)
            if len(parts) >= 2 and parts[0][0] == 0x06:
                if buf[parts[0][2]:parts[0][3]] == b"\x55\x04\x03":
                    raw = buf[parts[1][2]:parts[1][3]]
                    if parts[1][0] == 0x1E:
                        return raw.decode("utf-16-be", "replace")
                    return raw.decode("utf-8", "replace")
    return None


def spki_rsa(spki):
    try:
        _, vs, ve = der_read(spki, 0)
        parts = der_children(spki, vs, ve)
        alg = der_children(spki, parts[0][2], parts[0][3])
        if spki[alg[0][2]:alg[0][3]] != bytes.fromhex("2a864886f70d010101"):
            return None, None
        bit = spki[parts[1][2]:parts[1][3]]
        key = bit[1:]
        _, kvs, kve = der_read(key, 0)
        nums = der_children(key, kvs, kve)
        n = int.from_bytes(key[nums[0][2]:nums[0][3]], "big")
        e = int.from_bytes(key[nums[1][2]:nums[1][3]], "big")
        return n, e
    except (DerError, IndexError):
        return None, None


def csr_common_name(b64):
    """The subject CN of a base64 PKCS#10, or None."""
    try:
        raw = base64.b64decode(b64)
        _, vs, ve = der_read(raw, 0)
        cri = der_children(raw, vs, ve)[0]
        parts = der_children(raw, cri[2], cri[3])
        subj = parts[1]
        cn = name_common_name(raw, subj[2], subj[3])
        return cn or None
    except Exception:  # a request NDES could not read: no name to report
        return None


class RsaKey:
    def __init__(self, n, e, d, p, q, dp, dq, qinv):
        self.n, self.e, self.d = n, e, d
        self.p, self.q, self.dp, self.dq, self.qinv = p, q, dp, dq, qinv
        self.size = (n.bit_length() + 7) // 8

    @classmethod
    def from_pkcs8_pem(cls, text):
        blocks = pem_blocks(text, "PRIVATE KEY")
        if blocks:
            raw = blocks[0]
            _, vs, ve = der_read(raw, 0)
            parts = der_children(raw, vs, ve)
            alg = der_children(raw, parts[1][2], parts[1][3])
            if raw[alg[0][2]:alg[0][3]] != bytes.fromhex("2a864886f70d010101"):
                raise DerError("the registration key is not an RSA key")
            inner = raw[parts[2][2]:parts[2][3]]
        else:
            blocks = pem_blocks(text, "RSA PRIVATE KEY")
            if not blocks:
                raise DerError("no private key PEM block")
            inner = blocks[0]
        _, vs, ve = der_read(inner, 0)
        nums = [int.from_bytes(inner[c[2]:c[3]], "big") for c in der_children(inner, vs, ve)]
        if len(nums) < 9:
            raise DerError("RSAPrivateKey is short")
        return cls(*nums[1:9])

    def sign_sha256(self, message):
        digest_info = bytes.fromhex("3031300d060960864801650304020105000420") + hashlib.sha256(message).digest()
        pad = self.size - len(digest_info) - 3
        if pad < 8:
            raise ValueError("key too small")
        em = b"\x00\x01" + b"\xff" * pad + b"\x00" + digest_info
        m = int.from_bytes(em, "big")
        # CRT
        m1 = pow(m % self.p, self.dp, self.p)
        m2 = pow(m % self.q, self.dq, self.q)
        h = (self.qinv * (m1 - m2)) % self.p
        s = m2 + h * self.q
        if pow(s, self.e, self.n) != m:  # fault check
            s = pow(m, self.d, self.n)
        return s.to_bytes(self.size, "big")


def build_csr(subject_der, spki_der, key):
    cri = der_seq(der_int(0), subject_der, spki_der, b"\xa0\x00")
    alg = der_seq(der_oid("1.2.840.113549.1.1.11"), b"\x05\x00")
    sig = key.sign_sha256(cri)
    return der_seq(cri, alg, der(0x03, b"\x00" + sig))


# ---------------------------------------------------------------- outcomes of calls

class Unexpected(Exception):
    """An unexpected failure: retried. kind is timeout, unreachable, http_error or parsing."""

    def __init__(self, kind, detail):
        Exception.__init__(self, "%s: %s" % (kind, detail))
        self.kind = kind
        self.detail = detail


class Attempted:
    """What a retried operation came to."""

    def __init__(self, status, value, attempts, retried, last_error=None):
        self.status = status  # "ok", "refused" or "failed"
        self.value = value
        self.attempts = attempts
        self.retried = retried
        self.last_error = last_error

    def ok_code(self):
        return C_UNKNOWN if self.retried else C_OK


def http_call(method, url, headers, body, timeout_s, peer="the peer"):
    """(status, body bytes); transport trouble raises Unexpected (messages name the peer, not
    its port, so that event streams stay identical from one run to the next)."""
    u = urllib.parse.urlsplit(url)
    if u.scheme != "http":
        raise Unexpected("unreachable", "only http:// is supported here (%s)" % peer)
    path = u.path or "/"
    if u.query:
        path += "?" + u.query
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout_s)
    try:
        hdrs = dict(headers)
        hdrs["Connection"] = "close"
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        payload = resp.read()
        return resp.status, payload
    except socket.timeout:
        raise Unexpected("timeout", "no answer from %s within %.1f s" % (peer, timeout_s))
    except (ConnectionError, OSError, http.client.HTTPException) as e:
        raise Unexpected("unreachable", "%s could not be reached (%s)" % (peer, e.__class__.__name__))
    finally:
        conn.close()


def odata_error(payload):
    try:
        doc = json.loads(payload)
        err = doc.get("error")
        if isinstance(err, dict) and "code" in err:
            return err.get("code"), err.get("message") or ""
    except Exception:
        pass
    return None


def ca_error(payload):
    try:
        doc = json.loads(payload)
        if isinstance(doc, dict) and isinstance(doc.get("error"), str):
            return doc["error"], doc.get("message") or ""
    except Exception:
        pass
    return None


class Refused(Exception):
    """A clean refusal: the answer, not retried."""

    def __init__(self, code, message, status=None):
        Exception.__init__(self, "%s: %s" % (code, message))
        self.code = code
        self.message = message
        self.status = status


# ---------------------------------------------------------------- the connector

class Connector:
    def __init__(self, mutant=None):
        self.mutant = mutant
        self.out_lock = threading.Lock()
        self.state_lock = threading.RLock()
        self.now_ms = 0
        self.cfg = None
        self.my_msg_id = 0
        self.sleepers = {}
        self.services = None
        self.reg = None  # dict when the registration certificate is usable
        self.reg_thumbprint_hint = None
        self.started = False
        self.pkcs_outbox = {}  # requestId -> entry
        self.revoke_outbox = {}  # requestContext -> entry
        self.issued = {}  # serial -> (device, user, request id)
        self.transactions = {}  # SCEP transaction id -> (device, user)
        self.transaction_order = []

    # ------------------------------------------------------------ protocol plumbing

    def send(self, msg):
        line = json.dumps(msg, separators=(",", ":"))
        with self.out_lock:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    def reply(self, req, kind, **fields):
        msg = {"type": kind, "in_reply_to": req["msg_id"]}
        msg.update(fields)
        self.send(msg)

    def note_time(self, text):
        if not text:
            return
        try:
            ms = parse_time_ms(text)
        except ValueError:
            return
        with self.state_lock:
            if ms > self.now_ms:
                self.now_ms = ms

    def now(self):
        with self.state_lock:
            return self.now_ms

    def sleep(self, ms):
        remaining = int(ms)
        while remaining > 0:
            chunk = min(remaining, DAY_MS)
            remaining -= chunk
            waiter = threading.Event()
            with self.state_lock:
                self.my_msg_id += 1
                mid = self.my_msg_id
                self.sleepers[mid] = waiter
            self.send({"type": "sleep", "msg_id": mid, "ms": chunk})
            waiter.wait()

    def sleep_ok(self, msg):
        self.note_time(msg.get("now"))
        with self.state_lock:
            waiter = self.sleepers.pop(msg.get("in_reply_to"), None)
        if waiter is not None:
            waiter.set()
        else:
            log("sleep_ok for a sleep I never sent:", msg)

    def event(self, event_id, code, details):
        clean = {}
        for k, v in details.items():
            if v is None:
                continue
            v = str(v)
            if v == "":
                continue
            clean[k] = v.encode("utf-8")[:4096].decode("utf-8", "ignore")
        self.send({"type": "event", "event_id": event_id, "code": code, "details": clean})
        log("event", event_id, code, clean.get("reason", ""))

    # ------------------------------------------------------------ retries

    def retried(self, fn, what):
        """Run fn up to retries+1 times; Unexpected is retried after a backoff sleep."""
        attempts = 0
        retried = False
        last = None
        total = self.cfg["retries"] + 1
        for i in range(total):
            if i > 0:
                self.sleep(self.cfg["backoff_ms"] * (2 ** (i - 1)))
            attempts += 1
            try:
                return Attempted("ok", fn(), attempts, retried)
            except Refused as r:
                return Attempted("refused", r, attempts, retried)
            except Unexpected as e:
                log("%s: attempt %d failed: %s" % (what, attempts, e))
                retried = True
                last = e
        return Attempted("failed", None, attempts, retried, last)

    # ------------------------------------------------------------ Intune transport

    def timeout_s(self):
        return max(0.05, self.cfg["timeout_ms"] / 1000.0)

    def discover(self):
        with self.state_lock:
            if self.services is not None:
                return self.services
        status, payload = http_call("GET", self.cfg["discovery_url"], {
            "Authorization": "Bearer contoso-harness-token",
            "client-request-id": str(uuid.uuid4()),
            "Accept": "application/json",
        }, None, self.timeout_s(), "Intune discovery")
        if status == 401 or status >= 500:
            raise Unexpected("http_error", "discovery answered HTTP %d" % status)
        if status != 200:
            err = odata_error(payload)
            if err:
                raise Refused(err[0], "discovery: " + err[1], status)
            raise Unexpected("http_error", "discovery answered HTTP %d" % status)
        try:
            doc = json.loads(payload)
            found = {}
            for entry in doc["value"]:
                uri = entry.get("uri")
                for key in ("providerName", "serviceName"):
                    name = entry.get(key)
                    if name and uri:
                        found[name.lower()] = uri.rstrip("/")
        except Exception:
            raise Unexpected("parsing", "discovery answer is not the expected collection")
        with self.state_lock:
            self.services = found
        return found

    def service_url(self, service):
        found = self.discover()
        uri = found.get(service.lower())
        if not uri:
            raise Unexpected("parsing", "discovery does not list %s" % service)
        return uri

    def intune_post(self, service, suffix, body, extra_headers=None, bearer=True):
        """POST to an Intune service: (status, payload); transport trouble raises Unexpected."""
        url = self.service_url(service) + "/" + suffix
        headers = {"client-request-id": str(uuid.uuid4()), "Accept": "application/json",
                   "UserAgent": CALLER_INFO}
        if bearer:
            headers["Authorization"] = "Bearer contoso-harness-token"
        ver = API_VERSIONS.get(service)
        if ver:
            headers["api-version"] = ver
        if extra_headers:
            headers.update(extra_headers)
        return http_call("POST", url, headers, body, self.timeout_s(), "Intune " + service)

    def intune_json(self, service, suffix, body):
        """POST expecting 2xx JSON; 4xx (not 401) with an error body is Refused."""
        status, payload = self.intune_post(service, suffix, body)
        if 200 <= status < 300:
            try:
                return json.loads(payload)
            except Exception:
                raise Unexpected("parsing", "%s/%s answered a body that is not JSON" % (service, suffix))
        if status == 401 or status >= 500:
            raise Unexpected("http_error", "%s/%s answered HTTP %d" % (service, suffix, status))
        err = odata_error(payload)
        if err is not None:
            raise Refused(err[0], err[1], status)
        raise Unexpected("parsing", "%s/%s answered HTTP %d without an error body" % (service, suffix, status))

    # ------------------------------------------------------------ CA transport

    def ca_post(self, path, body, headers=None):
        hdrs = {"Accept": "application/json"}
        if headers:
            hdrs.update(headers)
        status, payload = http_call("POST", self.cfg["ca_url"].rstrip("/") + path, hdrs, body, self.timeout_s(), "the CA")
        if 200 <= status < 300:
            try:
                doc = json.loads(payload)
                if not isinstance(doc, dict):
                    raise ValueError
                return doc
            except Exception:
                raise Unexpected("parsing", "the CA answered a body that is not JSON")
        err = ca_error(payload)
        if status >= 500:
            raise Unexpected("http_error", "the CA answered HTTP %d%s" % (status, (" (%s)" % err[1]) if err else ""))
        if err is None:
            raise Unexpected("parsing", "the CA answered HTTP %d without an error body" % status)
        raise Refused(err[0], err[1], status)

    # ------------------------------------------------------------ the registration store

    def store_path(self, name):
        return os.path.join(self.cfg["store_dir"], name)

    def read_store_file(self, name):
        try:
            with open(self.store_path(name), "r", encoding="utf-8") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def write_store_file(self, name, text):
        tmp = self.store_path(name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.store_path(name))

    def complete_interrupted_renewal(self):
        """An empty registration.pem beside a complete .tmp: finish the rename."""
        pem = self.store_path("registration.pem")
        tmp = self.store_path("registration.pem.tmp")
        try:
            if os.path.isfile(tmp):
                with open(tmp, "r", encoding="utf-8") as f:
                    text = f.read()
                blocks = pem_blocks(text, "CERTIFICATE")
                if blocks:
                    Cert(blocks[0])
                    empty = (not os.path.exists(pem)) or (os.path.isfile(pem) and os.path.getsize(pem) == 0)
                    if empty:
                        os.replace(tmp, pem)
                        log("completed an interrupted renewal (registration.pem.tmp renamed)")
        except (OSError, DerError, ValueError) as e:
            log("could not complete the interrupted renewal:", e)

    def read_registration_once(self):
        """('missing', None) or ('ok', Cert); raises Unexpected when the read fails."""
        pem = self.store_path("registration.pem")
        if not os.path.lexists(pem) and not os.path.exists(pem + ".tmp"):
            return "missing", None
        try:
            with open(pem, "r", encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            raise Unexpected("unreadable", "registration.pem vanished while being read")
        except (OSError, UnicodeDecodeError) as e:
            raise Unexpected("unreadable", "registration.pem cannot be read (%s)" % e.__class__.__name__)
        blocks = pem_blocks(text, "CERTIFICATE")
        if not blocks:
            raise Unexpected("unreadable", "registration.pem holds no certificate (%d bytes)" % len(text))
        try:
            return "ok", Cert(blocks[0])
        except (DerError, IndexError, ValueError, UnicodeDecodeError) as e:
            raise Unexpected("unreadable", "registration.pem does not parse (%s)" % e)

    def load_registration(self):
        """Read the store at start; write the retrieve events. True when unexpected trouble was met."""
        settings_text = None
        configured = None
        try:
            settings_text = self.read_store_file("connector.json")
            if settings_text is not None:
                configured = (json.loads(settings_text).get("thumbprint") or "").upper() or None
        except (OSError, ValueError) as e:
            log("connector.json unreadable:", e)
        self.reg_thumbprint_hint = configured

        attempts = 0
        trouble = None
        found = None
        missing = False
        total = self.cfg["retries"] + 1
        for i in range(total):
            if i > 0:
                self.sleep(self.cfg["backoff_ms"] * (2 ** (i - 1)))
                self.complete_interrupted_renewal()
            attempts += 1
            try:
                status, cert = self.read_registration_once()
                if status == "missing":
                    missing = True
                else:
                    found = cert
                break
            except Unexpected as e:
                log("store read %d failed: %s" % (attempts, e))
                trouble = e
        had_trouble = attempts > 1 or (found is None and not missing)

        if missing:
            self.event(EV_RETRIEVE_ERR, C_CERT_NOT_FOUND, {
                "thumbprint": configured, "attempts": attempts,
                "reason": "%s: no registration certificate in the store (registration.pem is absent); enroll the connector" % VENDOR})
            return had_trouble
        if found is None:
            self.event(EV_RETRIEVE_ERR, C_UNKNOWN, {
                "thumbprint": configured, "attempts": attempts,
                "reason": "%s: the registration store could not be read on any of %d attempts (%s)" % (VENDOR, attempts, trouble.detail if trouble else "?")})
            return had_trouble
        cert = found
        if attempts > 1:
            self.event(EV_RETRIEVE_WARN, C_UNKNOWN, {
                "thumbprint": cert.thumbprint, "not_after": format_ms(cert.not_after), "attempts": attempts,
                "reason": "%s: reading the registration store failed unexpectedly (%s); attempt %d worked" % (VENDOR, trouble.detail if trouble else "?", attempts)})
        if configured and configured != cert.thumbprint:
            self.event(EV_RETRIEVE_WARN, C_THUMBPRINT_NOT_FOUND, {
                "thumbprint": configured, "not_after": format_ms(cert.not_after), "attempts": attempts,
                "reason": "%s: no certificate matches the configured thumbprint %s; using the registration certificate found by subject (%s, %s)" % (VENDOR, configured, cert.subject_cn, cert.thumbprint)})

        key_text = None
        key_problem = None
        try:
            key_text = self.read_store_file("registration.key")
        except (OSError, UnicodeDecodeError) as e:
            key_problem = ("unexpected", "registration.key cannot be read (%s)" % e.__class__.__name__)
        key = None
        if key_problem is None:
            if key_text is None:
                key_problem = ("clean", "the registration certificate has no private key in the store (registration.key is absent)")
            else:
                try:
                    key = RsaKey.from_pkcs8_pem(key_text)
                    if cert.modulus is not None and key.n != cert.modulus:
                        key = None
                        key_problem = ("clean", "registration.key does not belong to the registration certificate")
                except (DerError, ValueError, IndexError) as e:
                    key_problem = ("unexpected", "registration.key does not parse (%s)" % e)
        if key is None:
            self.event(EV_RETRIEVE_ERR, C_OK if key_problem[0] == "clean" else C_UNKNOWN, {
                "thumbprint": cert.thumbprint, "not_after": format_ms(cert.not_after), "attempts": attempts,
                "reason": "%s: %s" % (VENDOR, key_problem[1])})
            return had_trouble or key_problem[0] != "clean"

        now = self.now()
        if cert.not_after <= now:
            self.event(EV_RETRIEVE_WARN, C_OK, {
                "thumbprint": cert.thumbprint, "not_after": format_ms(cert.not_after), "attempts": attempts,
                "reason": "%s: the registration certificate expired at %s; renewal cannot bring it back" % (VENDOR, format_ms(cert.not_after))})
        elif cert.not_after - now <= self.cfg["renewal_window_ms"]:
            self.event(EV_RETRIEVE_WARN, C_OK, {
                "thumbprint": cert.thumbprint, "not_after": format_ms(cert.not_after), "attempts": attempts,
                "reason": "%s: the registration certificate is inside its renewal window (expires %s); it will be renewed at the next cycle" % (VENDOR, format_ms(cert.not_after))})
        with self.state_lock:
            self.reg = {"cert": cert, "key": key}
        return had_trouble

    def reg_cert(self):
        with self.state_lock:
            return self.reg["cert"] if self.reg else None

    # ------------------------------------------------------------ start / stop

    def checkin(self, state):
        cert = self.reg_cert()

        def call():
            doc = self.intune_json(SVC_REG, "checkin", {"state": state, "thumbprint": cert.thumbprint})
            if isinstance(doc, dict) and doc.get("value") is False:
                raise Refused("NotAccepted", "Intune answered value=false")
            return doc
        return self.retried(call, "checkin " + state)

    def handle_start(self, req):
        trouble = self.load_registration()
        self.started = True
        cert = self.reg_cert()
        if cert is None:
            self.event(EV_STARTED, C_UNKNOWN if trouble else C_OK, {
                "attempts": 1,
                "reason": "%s: service started without a usable registration certificate; it will do no work until the connector is enrolled again" % VENDOR})
            return
        res = self.checkin("started")
        if res.status == "ok":
            code = C_UNKNOWN if (trouble or res.retried) else C_OK
            why = "checked in with Intune" + (" after %d attempts" % res.attempts if res.attempts > 1 else "")
            if trouble:
                why += "; the registration store needed more than one read"
        elif res.status == "refused":
            code = C_UNKNOWN if trouble else C_OK
            why = "Intune refused the check-in (%s: %s)" % (res.value.code, res.value.message)
        else:
            code = C_UNKNOWN
            why = "the check-in with Intune failed on every attempt (%s)" % res.last_error.detail
        self.event(EV_STARTED, code, {"attempts": res.attempts,
                                      "reason": "%s: service started as %s; %s" % (VENDOR, cert.thumbprint, why)})
        self.ensure_signing_certificate()

    def ensure_signing_certificate(self):
        cert = self.reg_cert()
        if cert is None:
            return
        try:
            present = self.read_store_file("signing.pem")
        except (OSError, UnicodeDecodeError):
            present = None
        if present and pem_blocks(present, "CERTIFICATE"):
            return

        def call():
            doc = self.intune_json(SVC_REG, "downloadSigningCertificate", {"thumbprint": cert.thumbprint})
            try:
                raw = base64.b64decode(doc["certificate"])
                Cert(raw)
            except Exception:
                raise Unexpected("parsing", "the signing certificate in Intune's answer does not parse")
            return raw
        res = self.retried(call, "download signing certificate")
        details = {"request_kind": "signing_certificate", "attempts": res.attempts}
        if res.status == "ok":
            self.write_store_file("signing.pem", to_pem(res.value, "CERTIFICATE"))
            details.update(request_count="1", download_state="downloaded",
                           reason="%s: downloaded the SCEP signing certificate %s from Intune" % (VENDOR, hashlib.sha1(res.value).hexdigest().upper()))
            self.event(EV_DOWNLOAD_OK, res.ok_code(), details)
        elif res.status == "refused":
            details.update(request_count="0", download_state="refused",
                           reason="%s: Intune refused the SCEP signing certificate download (%s: %s)" % (VENDOR, res.value.code, res.value.message))
            self.event(EV_DOWNLOAD_FAIL, C_OK, details)
        else:
            details.update(request_count="0", download_state=DOWNLOAD_STATE_OF.get(res.last_error.kind, "requesting"),
                           reason="%s: the SCEP signing certificate download failed on every attempt (%s)" % (VENDOR, res.last_error.detail))
            self.event(EV_DOWNLOAD_FAIL, C_UNKNOWN, details)

    def handle_stop(self, req):
        cert = self.reg_cert()
        if cert is None:
            if self.mutant != "no-stop-event":
                self.event(EV_STOPPED, C_OK, {"attempts": 1,
                                              "reason": "%s: service stopped; there was no registration to check out" % VENDOR})
            self.started = False
            return
        res = self.checkin("stopped")
        if res.status == "ok":
            code = res.ok_code()
            why = "checked out with Intune"
        elif res.status == "refused":
            code = C_OK
            why = "Intune refused the check-out (%s: %s)" % (res.value.code, res.value.message)
        else:
            code = C_UNKNOWN
            why = "the check-out with Intune failed on every attempt (%s)" % res.last_error.detail
        if self.mutant != "no-stop-event":
            self.event(EV_STOPPED, code, {"attempts": res.attempts, "reason": "%s: service stopped; %s" % (VENDOR, why)})
        self.started = False

    # ------------------------------------------------------------ the service cycle

    def handle_sync(self, req):
        cert = self.reg_cert()
        if cert is None:
            log("sync: no usable registration certificate, nothing to do")
            return
        if not self.renewal_check():
            return
        self.ensure_signing_certificate()
        self.pkcs_cycle()
        self.revocation_cycle()

    def renewal_check(self):
        """False when the connector cannot work (its registration expired)."""
        cert = self.reg_cert()
        now = self.now()
        base = {"thumbprint": cert.thumbprint, "not_after": format_ms(cert.not_after)}
        if cert.not_after <= now:
            d = dict(base, attempts=1,
                     reason="%s: the registration certificate expired at %s, before it could be renewed; re-enroll the connector" % (VENDOR, format_ms(cert.not_after)))
            self.event(EV_RENEW_FAIL, C_CERT_EXPIRED, d)
            return False
        if cert.not_after - now > self.cfg["renewal_window_ms"]:
            return True
        if self.mutant == "no-renewal":
            return True
        key = self.reg["key"]
        csr = base64.b64encode(build_csr(cert.subject_der, cert.spki_der, key)).decode()

        def call():
            doc = self.intune_json(SVC_REG, "renewCertificate", {"thumbprint": cert.thumbprint, "certificateRequest": csr})
            try:
                raw = base64.b64decode(doc["certificate"])
                new = Cert(raw)
            except Exception:
                raise Unexpected("parsing", "the renewed certificate in Intune's answer does not parse")
            return new
        res = self.retried(call, "renew registration")
        if res.status == "ok":
            new = res.value
            self.write_store_file("registration.pem", to_pem(new.der, "CERTIFICATE"))
            try:
                settings = {}
                text = self.read_store_file("connector.json")
                if text:
                    settings = json.loads(text)
                settings["thumbprint"] = new.thumbprint
                self.write_store_file("connector.json", json.dumps(settings, indent=2) + "\n")
            except (OSError, ValueError) as e:
                log("could not update connector.json:", e)
            with self.state_lock:
                self.reg = {"cert": new, "key": key}
            self.event(EV_RENEW_OK, res.ok_code(), {
                "thumbprint": new.thumbprint, "not_after": format_ms(new.not_after), "attempts": res.attempts,
                "reason": "%s: renewed the registration certificate (was %s, expiring %s)" % (VENDOR, cert.thumbprint, format_ms(cert.not_after))})
        elif res.status == "refused":
            self.event(EV_RENEW_FAIL, C_OK, dict(base, attempts=res.attempts,
                       reason="%s: Intune refused to renew the registration certificate (%s: %s)" % (VENDOR, res.value.code, res.value.message)))
        else:
            self.event(EV_RENEW_FAIL, C_UNKNOWN, dict(base, attempts=res.attempts,
                       reason="%s: renewing the registration certificate failed on every attempt (%s)" % (VENDOR, res.last_error.detail)))
        return True

    def batch_size(self):
        return max(1, min(int(self.cfg.get("batch_size") or 100), 500))

    def download_event(self, kind, res, count):
        details = {"request_kind": kind, "attempts": res.attempts}
        if res.status == "ok":
            details.update(request_count=str(count), download_state="downloaded",
                           reason="%s: downloaded %d %s request(s) from Intune" % (VENDOR, count, kind))
            self.event(EV_DOWNLOAD_OK, res.ok_code(), details)
        elif res.status == "refused":
            details.update(request_count="0", download_state="refused",
                           reason="%s: Intune refused the %s download (%s: %s)" % (VENDOR, kind, res.value.code, res.value.message))
            self.event(EV_DOWNLOAD_FAIL, C_OK, details)
        else:
            details.update(request_count="0", download_state=DOWNLOAD_STATE_OF.get(res.last_error.kind, "requesting"),
                           reason="%s: the %s download failed on every attempt (%s)" % (VENDOR, kind, res.last_error.detail))
            self.event(EV_DOWNLOAD_FAIL, C_UNKNOWN, details)

    # ------------------------------------------------------------ PKCS

    def pkcs_cycle(self):
        n = self.batch_size()

        def call():
            doc = self.intune_json(SVC_PKCS, "CertificateAuthorityRequests/downloadCARequests",
                                   {"downloadParameters": {"maxMessages": n, "requestType": "PkcsCertificate"}})
            if isinstance(doc, dict) and isinstance(doc.get("value"), list):
                doc = doc["value"]
            if not isinstance(doc, list) or not all(isinstance(x, dict) for x in doc):
                raise Unexpected("parsing", "the PKCS download is not a JSON array of requests")
            return doc
        res = self.retried(call, "download PKCS requests")
        requests = res.value if res.status == "ok" else []
        self.download_event("pkcs", res, len(requests))
        if self.mutant == "lose-one" and requests:
            requests = requests[:-1]
        for r in requests:
            rid = r.get("requestId")
            if not rid:
                log("a PKCS request without requestId, skipped:", r)
                continue
            with self.state_lock:
                if rid in self.pkcs_outbox:
                    log("request %s already has a result waiting in the outbox" % rid)
                    continue
            entry = self.issue(r)
            with self.state_lock:
                self.pkcs_outbox[rid] = entry
        self.upload_pkcs()

    def issue(self, r):
        rid = r.get("requestId")
        device = r.get("deviceId")
        user = r.get("userId")
        base = {"device_id": device, "user_id": user, "request_id": rid}
        entry = {"request": r, "device": device, "user": user, "deferred": []}
        try:
            params = json.loads(r.get("parameters") or "")
            template = params["templateName"]
            ca_name = params.get("caName") or self.cfg["ca_name"]
            csr = params["certificateRequest"]
        except (ValueError, KeyError, TypeError) as e:
            self.issue_event(entry, EV_ISSUE_FAIL, C_UNKNOWN, dict(base, ca_name=self.cfg["ca_name"], attempts=1,
                             reason="%s: the request's parameters do not read (%s); nothing was sent to the CA" % (VENDOR, e.__class__.__name__)))
            self.set_result(entry, False, RC_DATA_SERIALIZATION, "parameters do not parse")
            return entry
        base.update(ca_name=ca_name, template_name=template)
        headers = {}
        if self.cfg.get("ra_certificate"):
            cert = self.reg_cert()
            headers["x-client-certificate"] = base64.b64encode(cert.der).decode()

        def call():
            doc = self.ca_post("/ca/issue", {"template": template, "csr": csr}, headers)
            try:
                certificate = base64.b64decode(doc["certificate"])
                issued = Cert(certificate)
                serial = (doc.get("serialNumber") or issued.serial).upper()
                thumb = (doc.get("thumbprint") or issued.thumbprint).upper()
                chain = [base64.b64decode(c) for c in (doc.get("chain") or [])]
            except Exception:
                raise Unexpected("parsing", "the CA's issue answer does not read")
            return {"serial": serial, "thumbprint": thumb, "not_after": doc.get("notAfter"), "chain": chain}
        res = self.retried(call, "issue %s" % rid)
        if res.status == "ok":
            got = res.value
            with self.state_lock:
                self.issued[got["serial"]] = (device, user, rid)
            d = dict(base, thumbprint=got["thumbprint"], attempts=res.attempts,
                     reason="%s: the CA issued serial %s (expires %s)%s" % (VENDOR, got["serial"], got["not_after"],
                                                                          " after %d attempts" % res.attempts if res.attempts > 1 else ""))
            if self.mutant == "wrong-device" and device:
                d["device_id"] = device[::-1]
            if self.mutant == "other-thumbprint" and got["chain"]:
                d["thumbprint"] = hashlib.sha1(got["chain"][0]).hexdigest().upper()
            self.issue_event(entry, EV_ISSUE_OK, res.ok_code(), d)
            self.set_result(entry, True, RC_NONE, None)
        elif res.status == "refused":
            ref = res.value
            if ref.code == "client_certificate_required":
                code = C_RA_CERT_MISSING
                why = "the CA demands the RA client-authentication certificate, which this connector does not hold"
                rc = RC_NON_RETRYABLE
            elif ref.code == "bad_request":
                code = C_OK
                why = "the CA could not read the request (%s)" % ref.message
                rc = RC_PARAMETER_INVALID
            else:
                code = C_OK
                why = "the CA refused the request (%s: %s)" % (ref.code, ref.message)
                rc = RC_NON_RETRYABLE
            self.issue_event(entry, EV_ISSUE_FAIL, code, dict(base, attempts=res.attempts, reason="%s: %s" % (VENDOR, why)))
            self.set_result(entry, False, rc, why)
        else:
            err = res.last_error
            if err.kind in ("timeout", "unreachable"):
                code = C_UNKNOWN if self.mutant == "wrong-code" else C_CA_UNAVAILABLE
                rc = RC_SERVICE_UNAVAILABLE
                why = "the CA could not be reached on any of %d attempts (%s)" % (res.attempts, err.detail)
            else:
                code = C_UNKNOWN
                rc = RC_RETRYABLE
                why = "the CA failed on every one of %d attempts (%s)" % (res.attempts, err.detail)
            self.issue_event(entry, EV_ISSUE_FAIL, code, dict(base, attempts=res.attempts, reason="%s: %s" % (VENDOR, why)))
            self.set_result(entry, False, rc, why)
        return entry

    def issue_event(self, entry, eid, code, details):
        if self.mutant == "upload-before-issue":
            entry["deferred"].append((eid, code, details))
        else:
            self.event(eid, code, details)

    def set_result(self, entry, ok, rc, message):
        r = entry["request"]
        entry["result"] = {
            "tenantId": r.get("tenantId"), "userId": r.get("userId"), "deviceId": r.get("deviceId"),
            "requestId": r.get("requestId"), "requestType": r.get("requestType") or "PkcsCertificate",
            "succeeded": ok, "errorCode": rc,
            "errorMessage": (message[:1000] if message else None),
        }

    def upload_pkcs(self):
        def answer_true(doc):
            if doc is True:
                return True
            if isinstance(doc, dict) and doc.get("value") is True:
                return True
            if doc is False or (isinstance(doc, dict) and doc.get("value") is False):
                return False
            raise Unexpected("parsing", "the upload answer is neither true nor false")

        self.upload_queue("pkcs", self.pkcs_outbox, SVC_PKCS, "CertificateAuthorityRequests/uploadCARequestResults",
                          answer_true, lambda e: e["request"].get("requestId"))

    def upload_queue(self, kind, outbox, service, suffix, judge, key_of):
        rounds = 0
        while True:
            with self.state_lock:
                entries = list(outbox.values())
            if not entries:
                return
            rounds += 1
            body = {"results": [e["result"] for e in entries]}

            def call():
                return judge(self.intune_json(service, suffix, body))
            res = self.retried(call, "upload %d %s result(s)" % (len(entries), kind))
            if res.status == "ok" and res.value:
                for e in entries:
                    with self.state_lock:
                        outbox.pop(key_of(e), None)
                    d = self.upload_details(kind, e, res.attempts, "recorded",
                                            "%s: Intune recorded the %s result (batch of %d)" % (VENDOR, kind, len(entries)))
                    if self.mutant != "no-upload-event":
                        self.event(EV_UPLOAD_OK, res.ok_code(), d)
                    if self.mutant == "extra-failure" and kind == "pkcs":
                        self.event(EV_UPLOAD_FAIL, C_OK, dict(d, upload_state="not_recorded",
                                   reason="%s: the %s result was not recorded" % (VENDOR, kind)))
                    self.flush_deferred(e)
                if self.mutant == "duplicate-upload" and kind == "pkcs":
                    try:
                        status, payload = self.intune_post(service, suffix, body)
                        log("second upload answered HTTP %d" % status)
                    except Unexpected as ex:
                        log("second upload failed:", ex)
                return
            if res.status == "ok":
                for e in entries:
                    self.event(EV_UPLOAD_FAIL, C_OK, self.upload_details(kind, e, res.attempts, "not_recorded",
                               "%s: Intune answered the upload but did not record it; the result stays in the outbox" % VENDOR))
                    self.flush_deferred(e)
                return
            if res.status == "refused":
                ref = res.value
                named = re.findall(r"`([^`]+)`", ref.message or "")
                culprits = [e for e in entries if key_of(e) in named]
                if ref.status in (404, 409) and culprits and rounds < 5:
                    state = "refused"  # docs/conformance.md: the upload_state vocabulary
                    for e in culprits:
                        with self.state_lock:
                            outbox.pop(key_of(e), None)
                        self.event(EV_UPLOAD_FAIL, C_OK, self.upload_details(kind, e, res.attempts, state,
                                   "%s: Intune refused the result (%s: %s); it is dropped from the outbox" % (VENDOR, ref.code, ref.message)))
                        self.flush_deferred(e)
                    continue  # upload the rest again at once
                for e in entries:
                    self.event(EV_UPLOAD_FAIL, C_OK, self.upload_details(kind, e, res.attempts, "refused",
                               "%s: Intune refused the upload (%s: %s); the result stays in the outbox" % (VENDOR, ref.code, ref.message)))
                    self.flush_deferred(e)
                return
            for e in entries:
                self.event(EV_UPLOAD_FAIL, C_UNKNOWN, self.upload_details(kind, e, res.attempts, UPLOAD_STATE_OF.get(res.last_error.kind, "sending"),
                           "%s: the upload failed on every attempt (%s); the result stays in the outbox" % (VENDOR, res.last_error.detail)))
                self.flush_deferred(e)
            return

    def flush_deferred(self, e):
        for eid, code, details in e.get("deferred") or []:
            self.event(eid, code, details)
        e["deferred"] = []

    def upload_details(self, kind, e, attempts, state, reason):
        return {"request_kind": kind, "request_id": e["result"].get("requestId") or e["result"].get("requestContext"),
                "device_id": e.get("device"), "user_id": e.get("user"), "upload_state": state,
                "attempts": attempts, "reason": reason}

    # ------------------------------------------------------------ revocation

    def revocation_cycle(self):
        n = self.batch_size()

        def call():
            doc = self.intune_json(SVC_REVOKE, "CertificateAuthorityRequests/downloadRevocationRequests",
                                   {"downloadParameters": {"maxRequests": n, "issuerName": None, "certificateProviderName": None}})
            value = doc.get("value") if isinstance(doc, dict) else None
            if not isinstance(value, list) or not all(isinstance(x, dict) for x in value):
                raise Unexpected("parsing", "the revocation download is not an OData collection")
            return value
        res = self.retried(call, "download revocation requests")
        requests = res.value if res.status == "ok" else []
        self.download_event("revoke", res, len(requests))
        for r in requests:
            ctx = r.get("requestContext")
            if not ctx:
                continue
            with self.state_lock:
                if ctx in self.revoke_outbox:
                    continue
            entry = self.revoke(r)
            with self.state_lock:
                self.revoke_outbox[ctx] = entry
        self.upload_queue("revoke", self.revoke_outbox, SVC_REVOKE, "CertificateAuthorityRequests/uploadRevocationResults",
                          self.judge_revocation_upload, lambda e: e["result"].get("requestContext"))

    @staticmethod
    def judge_revocation_upload(doc):
        if isinstance(doc, dict) and isinstance(doc.get("value"), bool):
            return doc["value"]
        if isinstance(doc, bool):
            return doc
        raise Unexpected("parsing", "the revocation upload answer is not an Edm.Boolean")

    def revoke(self, r):
        ctx = r.get("requestContext")
        serial = (r.get("serialNumber") or "").upper()
        with self.state_lock:
            device, user, _ = self.issued.get(serial, (None, None, None))
        ca_name = r.get("issuerName") or self.cfg["ca_name"]
        base = {"device_id": device, "user_id": user, "ca_name": ca_name, "serial_number": serial, "request_id": ctx}
        entry = {"device": device, "user": user, "deferred": []}

        def result(ok, rc, message):
            entry["result"] = {"requestContext": ctx, "succeeded": ok, "errorCode": rc,
                               "errorMessage": message[:1000] if message else None}

        def call():
            doc = self.ca_post("/ca/revoke", {"serialNumber": serial})
            if "serialNumber" not in doc:
                raise Unexpected("parsing", "the CA's revoke answer does not read")
            return doc
        res = self.retried(call, "revoke %s" % serial)
        if res.status == "ok":
            d = dict(base, attempts=res.attempts,
                     reason="%s: the CA revoked serial %s at %s" % (VENDOR, serial, res.value.get("revokedAt")))
            if self.mutant == "wrong-serial":
                d["serial_number"] = serial[::-1] if serial[::-1] != serial else serial + "00"
            if self.mutant == "wrong-event":
                self.event(EV_REVOKE_FAIL, C_OK, d)
            else:
                self.event(EV_REVOKE_OK, res.ok_code(), d)
            result(True, RC_NONE, None)
        elif res.status == "refused":
            ref = res.value
            if ref.code == "access_denied":
                code, rc = C_REVOKE_DENIED, RC_NON_RETRYABLE
                why = "the CA does not let this connector revoke (%s)" % ref.message
            elif ref.code == "already_revoked":
                code, rc = C_OK, RC_CONFLICT
                why = "serial %s is revoked already (%s)" % (serial, ref.message)
            elif ref.code == "not_found":
                code, rc = C_OK, RC_CERT_NOT_FOUND
                why = "the CA knows no serial %s (%s)" % (serial, ref.message)
            else:
                code, rc = C_OK, RC_PARAMETER_INVALID if ref.code == "bad_request" else RC_NON_RETRYABLE
                why = "the CA refused the revocation (%s: %s)" % (ref.code, ref.message)
            self.event(EV_REVOKE_FAIL, code, dict(base, attempts=res.attempts, reason="%s: %s" % (VENDOR, why)))
            result(False, rc, why)
        else:
            why = "the CA failed or could not be reached on every one of %d attempts (%s)" % (res.attempts, res.last_error.detail)
            self.event(EV_REVOKE_FAIL, C_UNKNOWN, dict(base, attempts=res.attempts, reason="%s: %s" % (VENDOR, why)))
            result(False, RC_SERVICE_UNAVAILABLE, why)
        return entry

    # ------------------------------------------------------------ the policy module

    def remember_transaction(self, tx, device, user):
        with self.state_lock:
            if tx not in self.transactions:
                self.transaction_order.append(tx)
            self.transactions[tx] = (device, user)
            while len(self.transaction_order) > 10000:
                self.transactions.pop(self.transaction_order.pop(0), None)

    def signing_der(self):
        try:
            text = self.read_store_file("signing.pem")
        except (OSError, UnicodeDecodeError):
            return None
        if not text:
            return None
        blocks = pem_blocks(text, "CERTIFICATE")
        return blocks[0] if blocks else None

    def crp_encryption_present(self):
        try:
            text = self.read_store_file("crp-encryption.pem")
        except (OSError, UnicodeDecodeError):
            return False
        return bool(text and pem_blocks(text, "CERTIFICATE"))

    def handle_verify(self, req):
        tx = req.get("transaction_id") or ""
        csr = req.get("certificate_request") or ""
        cn = csr_common_name(csr)
        base = {"device_id": cn, "transaction_id": tx, "ca_name": self.cfg["ca_name"]}

        def refuse(reason):
            self.reply(req, "verify_ok", decision={"refuse": {"reason": reason}})

        if not self.crp_encryption_present():
            self.event(EV_VERIFY_FAIL, C_CRP_CERT_MISSING, dict(base, attempts=1,
                       reason="%s: the CRP encryption certificate (crp-encryption.pem) is not in the store; the request cannot be verified" % VENDOR))
            return refuse("Contoso: CRP encryption certificate missing")
        signing = self.signing_der()
        if signing is None:
            self.event(EV_VERIFY_FAIL, C_SIGNING_MISSING, dict(base, attempts=1,
                       reason="%s: no SCEP signing certificate (signing.pem) to call the Certificate Registration Point with" % VENDOR))
            return refuse("Contoso: SCEP signing certificate missing")
        client_cert = base64.b64encode(signing).decode()

        def call():
            status, payload = self.intune_post(SVC_CRP, "Certificate/VerifyRequest",
                                               {"transactionId": tx, "certificateRequest": csr, "callerInfo": "NDES_Plugin"},
                                               {"x-client-certificate": client_cert, "User-Agent": "NDES_Plugin"}, bearer=False)
            verdict = None
            try:
                doc = json.loads(payload)
                if isinstance(doc, dict) and isinstance(doc.get("code"), str):
                    verdict = doc
            except Exception:
                doc = None
            if status in (200, 201):
                if verdict is None:
                    raise Unexpected("parsing", "VerifyRequest answered HTTP %d with a body that does not read" % status)
                return verdict
            if status == 401 or status >= 500:
                raise Unexpected("http_error", "VerifyRequest answered HTTP %d" % status)
            if verdict is not None:
                return verdict
            err = odata_error(payload)
            if err is not None:
                raise Refused(err[0], err[1], status)
            raise Unexpected("parsing", "VerifyRequest answered HTTP %d without a verdict" % status)
        res = self.retried(call, "verify %s" % tx)

        if res.status == "ok":
            v = res.value
            code_name = v.get("code")
            device = cn or v.get("deviceId") or None
            user = v.get("userId") or None
            desc = v.get("errorDescription") or ""
            d = dict(base, device_id=device, user_id=user, attempts=res.attempts)
            if code_name == "Success":
                self.remember_transaction(tx, device, user)
                d["reason"] = "%s: Intune confirmed the SCEP challenge%s" % (VENDOR, " after %d attempts" % res.attempts if res.attempts > 1 else "")
                self.event(EV_VERIFY_OK, res.ok_code(), d)
                return self.reply(req, "verify_ok", decision={"issue": {"template": self.cfg["scep_template"]}})
            self.remember_transaction(tx, device, user)
            d["reason"] = "%s: Intune refused the request with code %s (%s)" % (VENDOR, code_name, desc)
            if code_name == "ChallengeExpired":
                self.event(EV_VERIFY_WARN, C_CHALLENGE_EXPIRED, d)
            elif code_name == "Unknown":
                self.event(EV_VERIFY_WARN, C_UNKNOWN, d)
            elif code_name in ("ChallengeDeserializationError", "ChallengeDecodingError"):
                self.event(EV_VERIFY_FAIL, C_DESERIALIZE, d)
            elif code_name in INTUNE_SCEP_CODES:
                self.event(EV_VERIFY_WARN, C_OK, d)
            else:
                d["reason"] = "%s: Intune answered code %s, which this connector does not know (%s)" % (VENDOR, code_name, desc)
                self.event(EV_VERIFY_FAIL, C_UNKNOWN, d)
            if self.mutant == "allow-refused":
                return self.reply(req, "verify_ok", decision={"issue": {"template": self.cfg["scep_template"]}})
            return refuse("Contoso: Intune refused: %s" % code_name)
        if res.status == "refused":
            ref = res.value
            self.event(EV_VERIFY_FAIL, C_OK, dict(base, attempts=res.attempts,
                       reason="%s: the Certificate Registration Point refused the verification call (%s: %s)" % (VENDOR, ref.code, ref.message)))
            return refuse("Contoso: verification call refused")
        self.event(EV_VERIFY_FAIL, C_UNKNOWN, dict(base, attempts=res.attempts,
                   reason="%s: the verification call failed on every one of %d attempts (%s)" % (VENDOR, res.attempts, res.last_error.detail)))
        return refuse("Contoso: verification failed")

    def handle_notify(self, req):
        tx = req.get("transaction_id") or ""
        csr = req.get("certificate_request") or ""
        outcome = req.get("outcome") or {}
        with self.state_lock:
            known = self.transactions.get(tx)
        device, user = known if known else (csr_common_name(csr), None)
        status = outcome.get("status")
        base = {"device_id": device, "user_id": user, "transaction_id": tx}
        signing = self.signing_der()
        headers = {"User-Agent": "NDES_Plugin"}
        if signing is not None:
            headers["x-client-certificate"] = base64.b64encode(signing).decode()

        if status == "issued":
            if self.mutant == "no-notify":
                return self.reply(req, "notify_ok")
            try:
                expiry = format_ms(parse_time_ms(outcome.get("not_after")), millis=False)
            except (ValueError, TypeError, AttributeError):
                expiry = outcome.get("not_after")
            body = {"transactionId": tx, "certificateRequest": csr, "callerInfo": "NDES_Plugin",
                    "outcome": {"status": "success", "certificateThumbprint": outcome.get("thumbprint"),
                                "certificateSerialNumber": outcome.get("serial_number"),
                                "certificateExpirationDateUtc": expiry,
                                "issuingCertificateAuthority": outcome.get("ca_name")}}
            base.update(thumbprint=outcome.get("thumbprint"), serial_number=outcome.get("serial_number"),
                        ca_name=outcome.get("ca_name"))
        else:
            why = outcome.get("reason") or status
            hresult = -2146877422 if status == "ca_denied" else -2147467259  # 0x80094012 / 0x80004005
            body = {"transactionId": tx, "certificateRequest": csr, "callerInfo": "NDES_Plugin",
                    "outcome": {"status": "failure", "hResult": hresult,
                                "errorDescription": ("Contoso: %s" % why)[:255]}}
            base.update(ca_name=self.cfg["ca_name"])

        def call():
            st, payload = self.intune_post(SVC_CRP, "Certificate/Notify", body, headers, bearer=False)
            if st == 204 or (200 <= st < 300 and not payload.strip()):
                return True
            if 200 <= st < 300:
                raise Unexpected("parsing", "Notify answered HTTP %d with an unexpected body" % st)
            if st == 401 or st >= 500:
                raise Unexpected("http_error", "Notify answered HTTP %d" % st)
            err = odata_error(payload)
            if err is not None:
                raise Refused(err[0], err[1], st)
            raise Unexpected("parsing", "Notify answered HTTP %d without an error body" % st)
        res = self.retried(call, "notify %s" % tx)
        d = dict(base, attempts=res.attempts)

        if status == "issued":
            if res.status == "ok":
                d["reason"] = "%s: Intune acknowledged the issuance of serial %s" % (VENDOR, outcome.get("serial_number"))
                self.event(EV_NOTIFY_OK, res.ok_code(), d)
            elif res.status == "refused":
                d["reason"] = "%s: Intune did not accept the success notification (%s: %s)" % (VENDOR, res.value.code, res.value.message)
                self.event(EV_NOTIFY_FAIL, C_OK, d)
            else:
                d["reason"] = "%s: the success notification failed on every one of %d attempts (%s)" % (VENDOR, res.attempts, res.last_error.detail)
                self.event(EV_NOTIFY_FAIL, C_UNKNOWN, d)
        else:
            told = {"ok": "Intune was told",
                    "refused": "Intune did not accept the failure notification (%s)" % (res.value.code if res.status == "refused" else ""),
                    "failed": "telling Intune failed (%s)" % (res.last_error.detail if res.last_error else "")}[res.status]
            if status == "ca_denied" and res.status != "failed":
                d["reason"] = "%s: the CA refused to issue after verification (%s); %s" % (VENDOR, outcome.get("reason"), told)
                self.event(EV_NOTIFY_FAIL, C_OK, d)
            else:
                d["reason"] = "%s: issuance did not complete (%s: %s); %s" % (VENDOR, status, outcome.get("reason"), told)
                self.event(EV_NOTIFY_FAIL, C_UNKNOWN, d)
        self.reply(req, "notify_ok")

    # ------------------------------------------------------------ dispatch

    def run(self):
        service_q = []
        service_cv = threading.Condition()
        workers = []

        def service_loop():
            while True:
                with service_cv:
                    while not service_q:
                        service_cv.wait()
                    req = service_q.pop(0)
                if req is None:
                    return
                self.dispatch(req)

        service_thread = threading.Thread(target=service_loop, daemon=True)
        service_thread.start()

        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            try:
                msg = json.loads(line)
            except ValueError:
                log("not JSON, ignored:", line[:200])
                continue
            t = msg.get("type")
            if t == "sleep_ok":
                self.sleep_ok(msg)
                continue
            self.note_time(msg.get("now"))
            if t == "init":
                self.cfg = msg["config"]
                self.note_time(msg.get("now"))
                log("init: protocol %s, mutant %s" % (msg.get("protocol"), self.mutant))
                self.reply(msg, "init_ok")
            elif t in ("verify", "notify"):
                th = threading.Thread(target=self.dispatch, args=(msg,), daemon=True)
                th.start()
                workers.append(th)
                workers = [w for w in workers if w.is_alive()]
            elif t == "shutdown":
                with service_cv:
                    service_q.append(None)
                    service_cv.notify()
                service_thread.join(timeout=10)
                for w in workers:
                    w.join(timeout=10)
                self.reply(msg, "shutdown_ok")
                sys.stdout.flush()
                return 0
            else:
                with service_cv:
                    service_q.append(msg)
                    service_cv.notify()
        return 0

    def dispatch(self, req):
        t = req.get("type")
        try:
            if t == "start":
                self.handle_start(req)
                self.reply(req, "start_ok")
            elif t == "sync":
                self.handle_sync(req)
                self.reply(req, "sync_ok")
                if self.mutant == "stray-reply":
                    self.reply(req, "sync_ok")
            elif t == "stop":
                self.handle_stop(req)
                self.reply(req, "stop_ok")
            elif t == "clock":
                self.reply(req, "clock_ok")
            elif t == "verify":
                self.handle_verify(req)
            elif t == "notify":
                self.handle_notify(req)
            else:
                log("unknown request type", t)
                if "msg_id" in req:
                    self.reply(req, "error", text="%s: unknown request type %r" % (VENDOR, t))
        except Exception as e:  # a bug of ours: say so rather than hang
            log("".join(traceback.format_exception(type(e), e, e.__traceback__)))
            if "msg_id" in req:
                self.reply(req, "error", text="%s: internal error handling %s: %s" % (VENDOR, t, e))


def main(argv):
    mutant = None
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--list-mutants":
            for name, desc in MUTANTS.items():
                sys.stdout.write("%s\t%s\n" % (name, desc))
            return 0
        if a == "--mutant":
            i += 1
            if i >= len(argv):
                sys.stderr.write("--mutant needs a NAME (see --list-mutants)\n")
                return 2
            mutant = argv[i]
        elif a.startswith("--mutant="):
            mutant = a.split("=", 1)[1]
        elif a in ("-h", "--help"):
            sys.stdout.write(__doc__)
            return 0
        else:
            sys.stderr.write("unknown argument %r\n" % a)
            return 2
        i += 1
    if mutant is not None and mutant not in MUTANTS:
        sys.stderr.write("unknown mutant %r; known: %s\n" % (mutant, ", ".join(MUTANTS)))
        return 2
    return Connector(mutant).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
