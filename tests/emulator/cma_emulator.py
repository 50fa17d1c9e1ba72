#!/usr/bin/python3
"""A local HTTPS emulator of Contentstack's Content Management API, for cstoken's tests.

Python 3 standard library only. Follows the Content Management API as Contentstack documents
it, including the harsh parts: a full stack silently evicts its oldest management token, a
21st login silently evicts the user's oldest authtoken.

RUNNING
  /usr/bin/python3 tests/emulator/cma_emulator.py --dir DIR [--port 0]
  Creates DIR, generates a throwaway CA and a server certificate (SAN DNS:localhost,
  IP:127.0.0.1, IP:::1; valid 2000-01-01 .. 2099-12-31 so faketime'd clients accept it), plus a
  second CA DIR/wrong-ca.pem that did NOT sign the server certificate. Listens with TLS on
  127.0.0.1:PORT (0 = ephemeral). When ready it writes DIR/ca.pem, then DIR/port (atomically,
  last). SIGTERM/SIGINT: stops and removes DIR/port. Request lines are logged on stderr.
  tests/lib/emulator.sh wraps all this: emulator_start, emu_ctl METHOD PATH [JSON],
  emu_user, emu_stack, emulator_config, emu_json_get EXPR (j = JSON on stdin), emu_totp SECRET.

STATE (all behind one lock)
  users   email (case-insensitive) -> password, optional TOTP secret, optional SMS two-factor,
          the last SMS code sent, live authtokens (max 20)
  stacks  api_key -> owner + admins + members (emails), token limit (default 10), branches (default
          ["main","development"]), aliases (default {"deploy":"main"}), management tokens
          (oldest first), uids of deleted and of evicted tokens

CMA ENDPOINTS (all answers JSON; every non-/_emu/ answer carries X-RateLimit-Limit: 10 and
X-RateLimit-Remaining: 10 minus this second's reads (GET) or writes (others) for the stack or
user; the emulator never rate-limits on its own: use a 429 fault for that)
  Error body: {"error_message": "...", "error_code": N, "errors": {"field": ["..."]}}.
  POST   /v3/user-session     {"user":{"email","password","tfa_token"?}}
         200 {"notice":"Login Successful.","user":{uid,email,...,"authtoken":"blt<32 hex>"}}
         wrong email/password (or body without them) -> 422 / 104
         2FA user, tfa_token missing or wrong -> 401 / 294, "tfa_type":"totp" ("sms" for a
         user with SMS two-factor and no TOTP secret)
         (RFC 6238, HMAC-SHA1, 30 s, 6 digits, current window +-1, on the REAL clock);
         the last code sent by SMS is accepted too, once
         the 21st live authtoken of a user silently invalidates the oldest one
  POST   /v3/user/request_token_sms   {"user":{"email","password"}}
         200 {"notice":"Verification code sent to your phone number successfully."}: a new
         6-digit code "sent" (read it with GET /_emu/sms), replacing the previous one
         wrong email/password -> 422 / 104; a user without 2FA -> 422 / 119 (the emulator's
         choice: Contentstack's answer is not documented)
  GET    /v3/user             header authtoken -> 200 {"user":{...}} | 401 / 105
  DELETE /v3/user-session     header authtoken -> 200 {"notice":"You've logged out successfully!"}
                              | 401 / 105; the authtoken stops working
  Token management: headers api_key + authtoken. Checked in this order:
         any "authorization" header (e.g. a management token) -> 401 / 105
         api_key missing or unknown -> 412 / 109
         authtoken missing or invalid -> 401 / 105
         authtoken's user neither owner nor member of the stack -> 412 / 109
         authtoken's user a member but neither owner nor admin -> 403 / 162 "You don't have
         the permission to manage management tokens." (the emulator's choice: Contentstack's
         answer to a non-admin is not documented)
  POST   /v3/stacks/management_tokens   {"token":{name, description?, scope, expires_on?,
         is_email_notification_enabled?}}
         needs Content-Type: application/json on POST/PUT (else 415 / 415)
         body not JSON -> 400 / 100; not {"token":{...}} -> 422 / 119
         name missing/empty -> 422 / 119 errors {"name":[...]}
         no branch/branch_alias scope entry -> 422 / 119 errors {"scope.branch_or_alias":[...]}
         unknown branch or alias -> 422 / 900
         expires_on not YYYY-MM-DD -> 422 / 119 errors {"expires_on":[...]} (null/absent: never;
         a date in the past is accepted and the token is expired at once)
         name uniqueness is not enforced; expired tokens still count towards the limit
         200 {"notice":"Management Token created successfully.","token":{uid,name,description,
         scope,expires_on,created_at,updated_at,is_email_notification_enabled,created_by,
         "token":"cs<32 hex>"}}   -- the ONLY answer that carries the token value.
         At the stack's limit, creating one more SILENTLY deletes the oldest (-> "evicted").
  GET    /v3/stacks/management_tokens          -> {"tokens":[... no values ...]}
                                                  (+ "count" with ?include_count=true)
  GET    /v3/stacks/management_tokens/{uid}    -> {"token":{...}}
  PUT    /v3/stacks/management_tokens/{uid}    same body as create; given fields replace the
         stored ones, then the same validation -> {"notice":"Management Token updated
         successfully.","token":{...no value...}}
  DELETE /v3/stacks/management_tokens/{uid}    -> {"notice":"Management Token deleted
         successfully."}; revocation immediate
         unknown (or already deleted/evicted) uid on GET/PUT/DELETE -> 422 / 141
  GET    /v3/stacks   (api_key + authtoken) -> {"stack":{api_key,name,...}}
  GET    /v3/stacks   (authtoken, no api_key) -> {"stacks":[...]}: every stack the user owns,
         administers or is a member of; with ?include_collaborators=true each carries
         "collaborators":[{"uid","email","roles":[{"uid","name":"Admin"|"Developer","admin"}]}]
         (the owner has no role entry: owner_uid names it)
  GET    /v3/stacks/branches        (api_key + authtoken of any member)
         -> {"branches":[{"uid","source","alias":[{"uid":alias}],...}]}
  GET    /v3/stacks/branch_aliases  -> {"branch_aliases":[{"uid":target branch,"source",
         "alias":alias name,...}]}   (one entry per alias, as Contentstack's reference shows)
  Using a management token: headers api_key + authorization: <bare token> (also accepted:
  authtoken of any stack member instead of authorization):
  GET    /v3/environments[?limit=N]  -> {"environments":[...]}   (stack has 2 environments)
  GET    /v3/content_types           -> {"content_types":[]}
         api_key missing/unknown -> 412 / 109
         token unknown, of another stack, deleted, evicted, or expired -> 401 / 105
         (expired: the emulator's UTC date >= expires_on)
         header "branch" naming no branch/alias of the stack -> 422 / 900; naming one the
         token's scope does not cover -> 401 / 161
  Unknown path -> 404 / 404; known path, wrong method -> 405 / 405.

OAUTH 2.0 (authorization code with PKCE, as Contentstack's developer hub and its SDK do it;
the app host and the developer hub are this same server, named by host keys)
  One app is registered: by default the public app of Contentstack's CLI (app id
  6400aa06db64de001a31c8a9, client id Ie0FEfTzlfAHL4xM, redirect http://localhost:8184);
  POST /_emu/oauth changes it and names the preset user who approves.
  GET    /apps/<app_id>/authorize?response_type=code&client_id&code_challenge
         &code_challenge_method=S256   (the SPA route of the authorize page, with the query
         behind it): approves at once for the preset user and answers 302 to the app's
         registered redirect with ?code=<32 hex>&location=NA; a code lives 60 s on the
         emulator's clock and is good once. Wrong app, client id, method or no challenge:
         400 {"error":"invalid_request"}; no preset user (or one the emulator does not
         know): 302 to the redirect with ?error=access_denied
  POST   /token   Content-Type: application/x-www-form-urlencoded (else 415)
         grant_type=authorization_code&code&redirect_uri&client_id&code_verifier
         grant_type=refresh_token&refresh_token&client_id&redirect_uri
         200 {"access_token","refresh_token","token_type":"Bearer","expires_in":3600,
              "location":"NA","organization_uid","user_uid","authorization_type":"oauth"}
         unknown, used or expired code, a verifier whose S256 is not the challenge, another
         client id or redirect_uri, an unknown or revoked refresh token: 400
         {"error":"invalid_grant","error_description":"..."}; a refresh hands out a new
         refresh token and retires the old one (the emulator's choice)
  Access tokens (60 minutes on the emulator's clock) work as "authorization: Bearer <token>"
  wherever an authtoken does (the CMA endpoints above; POST/DELETE /v3/user-session excepted);
  the management-token endpoints also want "organization_uid" naming the token's
  organization (missing or another: 401 / 105).
  GET    /manifests/<app_id>/authorizations   (Bearer + organization_uid)
         -> {"data":[{"authorization_uid","user":{"uid"},"scopes":[],"created_at"}]}
  DELETE /manifests/<app_id>/authorizations/<authorization_uid> -> 204; its access and
         refresh tokens stop working
  POST   /_emu/oauth  {"user"?: email approving, "app_id"?, "client_id"?, "redirect"?,
                       "organization_uid"?}  -> the app settings
  POST   /_emu/oauth/revoke_refresh  {"email"} -> the user's refresh tokens stop working
  GET    /_emu/oauth  -> {"app":{...},"codes":N,"refresh_tokens":[live ones],
                          "access_tokens":[every one handed out],"authorizations":[...]}

CONTROL API (no auth, same server, under /_emu/; errors: 400 {"error":"..."})
  POST   /_emu/users   {"email","password","tfa_secret"?,"sms"?}   -> {"user":{...}}
         "sms": true turns on two-factor by SMS (with or without a TOTP secret)
         posting an existing email replaces password, secret and sms, keeps its authtokens
  GET    /_emu/sms?email=E   the SMS the user was sent: {"email","code" (null when none is
                             pending),"sent" (how many SMS so far)}
  POST   /_emu/stacks  {"api_key","owner","limit"?,"branches"?,"aliases"? (list, each -> "main",
         or {"alias":"branch"}),"members"? [emails],"admins"? [emails],"name"?} -> {"stack":{...}}
         members see the stack, read it and its branches but may not manage tokens (the
         Developer role); admins (the Admin role) and the owner may
         posting an existing api_key updates the settings given and keeps its tokens
         "next_token"? (string): the value of the next token the API creates on the stack, once
  POST   /_emu/tokens  {"api_key","name","expires_on"?,"description"?,"scope"?,"uid"?}
         creates a "foreign" token directly (no validation beyond the date format; default
         scope: branch main, read; "uid" any string, default a fresh one); the stack's limit
         and eviction apply as for the API.
         Returns the bare token object including its value: {"uid",...,"token":"cs..."}
  DELETE /_emu/tokens/{uid}       revokes a token behind the client's back -> {"deleted":uid}
  POST   /_emu/revoke_authtokens  {"email"} -> all of the user's authtokens stop working
  GET    /_emu/state    users (with live authtokens, evicted authtokens), stacks (tokens with
                        values, "deleted" and "evicted" uids), "clock_offset", "today"
  GET    /_emu/requests[?path=PREFIX&method=M]  every non-control request, in order:
         [{"method","path","query" (raw string),"headers" (all, lower-case names),
           "body" (parsed JSON, raw string, or null when empty),"fault" (only when one applied),
           "auth" (which credential header it carried: "authtoken", "bearer" for
           "authorization: Bearer", "token" for a bare authorization, or null)}]
  DELETE /_emu/requests          forgets the request log
  POST   /_emu/faults  {"method"?,"path" (prefix of the request path),"responses":[...]}
         appended; a request takes the next response of the first fault entry that matches
         (method case-insensitive, absent = any) and has responses left. A response is:
           {"status":429,"headers":{"Retry-After":"1"},"body":{...}}  (default bodies: JSON
                  for 429/500 and others, an HTML page for 502/503/504)
           {"status":500}            (also 502, 504, anything)
           {"reset":true}            close the TCP connection (RST) without answering
           {"delay":SECONDS}         sleep, then answer normally (combines with the others)
           {"hold":"NAME"}           wait until POST /_emu/release {"hold":"NAME"} (at most
                  HOLD_LIMIT s, then answer 503), then go on like "delay": a test decides
                  when the answer comes, whatever the machine's speed
           {"raw":"not json","status":200,"headers"?}  a non-JSON body (default Content-Type:
                  application/json, as a broken server would say)
           {"truncate":true}         process the request, send headers with a Content-Length
                  larger than the body, half the real body, then close
           {"redirect":"https://elsewhere.example/"}   302 with Location
           "process":true            (with status/raw/reset) processes the request for real
                  first, then answers with the fault: e.g. a token minted but the answer lost
         Faults never apply to /_emu/ paths; faulted requests are logged like any other.
  GET    /_emu/faults   entries with their remaining responses;  DELETE /_emu/faults  clears
  POST   /_emu/release {"hold":"NAME"}  lets the requests held as NAME go on, and every later
                       one held as NAME (until a reset) -> {"released":"NAME"}
  POST   /_emu/reset   clears the request log and faults only; {"all":true} also clears users,
                       stacks and tokens and the clock offset
  POST   /_emu/clock   {"offset_seconds":N} or {"offset_days":N}: shifts the emulator's clock
                       used for token expiry and created_at (not TOTP) -> {"today":"YYYY-MM-DD"}
"""

import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import secrets
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1024 * 1024
MAX_AUTHTOKENS = 20
DEFAULT_LIMIT = 10
RATE_LIMIT = 10

MSG_105 = "You're not allowed in here unless you're logged in."
MSG_104 = "Looks like your email or password is invalid. Please try again or reset your password."
MSG_294 = "Please login using the Two-Factor verification Token."
MSG_109 = "The stack you are trying to access does not exist or you do not have access to it."
OAUTH_APP_ID = "6400aa06db64de001a31c8a9"
OAUTH_CLIENT_ID = "Ie0FEfTzlfAHL4xM"
OAUTH_REDIRECT = "http://localhost:8184"
OAUTH_CODE_LIFETIME = 60
OAUTH_ACCESS_LIFETIME = 3600
MSG_162 = "You don't have the permission to manage management tokens."


class ApiError(Exception):
    def __init__(self, status, code, message, errors=None, extra=None):
        super().__init__(message)
        self.status = status
        self.body = {"error_message": message, "error_code": code}
        if errors:
            self.body["errors"] = errors
        if extra:
            self.body.update(extra)


class CtlError(Exception):
    pass


def uid():
    return "blt" + secrets.token_hex(8)


# ---------------------------------------------------------------- TOTP


def totp_at(secret_b32, counter):
    s = re.sub(r"[\s-]", "", secret_b32).upper()
    s += "=" * (-len(s) % 8)
    key = base64.b32decode(s)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000
    return "%06d" % code


def totp_ok(secret_b32, token):
    if not isinstance(token, str) or not re.fullmatch(r"[0-9]{6}", token):
        return False
    counter = int(time.time()) // 30
    ok = False
    for c in (counter - 1, counter, counter + 1):
        ok |= hmac.compare_digest(totp_at(secret_b32, c), token)
    return ok


# ---------------------------------------------------------------- state


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.clear_all()

    def clear_all(self):
        self.users = {}  # email lower -> dict
        self.authtokens = {}  # authtoken -> email lower
        self.stacks = {}  # api_key -> dict
        self.requests = []
        self.faults = []
        self.holds = {}  # name -> threading.Event, set when released
        self.offset = 0.0
        self.rate = {}  # (who, kind) -> (second, count)
        self.oauth_app = {"app_id": OAUTH_APP_ID, "client_id": OAUTH_CLIENT_ID,
                          "redirect": OAUTH_REDIRECT, "user": None,
                          "organization_uid": "blt0000000000000000"}
        self.oauth_codes = {}  # code -> {challenge, user, issued, client_id}
        self.oauth_access = {}  # access token -> {user, org, expires, authz}
        self.oauth_refresh = {}  # refresh token -> {user, org, authz}
        self.oauth_authz = {}  # authorization uid -> {user, created_at}

    # -- clock
    def now(self):
        return time.time() + self.offset

    def today(self):
        return datetime.datetime.fromtimestamp(self.now(), tz=datetime.timezone.utc).date()

    def stamp(self):
        t = datetime.datetime.fromtimestamp(self.now(), tz=datetime.timezone.utc)
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)

    # -- views
    def user_view(self, u, authtoken=None):
        v = {
            "uid": u["uid"],
            "created_at": u["created_at"],
            "updated_at": u["created_at"],
            "email": u["email"],
            "username": u["email"].split("@")[0],
            "first_name": "Test",
            "last_name": "User",
            "company": "cstoken tests",
            "org_uid": [],
            "shared_org_uid": [],
            "active": True,
            "failed_attempts": 0,
            "settings": {"global": []},
            "tfa_enabled": bool(u["tfa_secret"] or u["tfa_sms"]),
        }
        if authtoken:
            v["authtoken"] = authtoken
        return v

    @staticmethod
    def token_view(t, with_value=False):
        v = {k: t[k] for k in ("uid", "name", "description", "scope", "expires_on",
                               "created_at", "updated_at", "is_email_notification_enabled",
                               "created_by", "updated_by", "api_key")}
        if with_value:
            v["token"] = t["token"]
        return v

    def stack_view(self, s):
        return {"api_key": s["api_key"], "name": s["name"], "uid": s["uid"],
                "owner_uid": self.users[s["owner"]]["uid"] if s["owner"] in self.users else None,
                "org_uid": "blt0000000000000000", "master_locale": "en-us",
                "created_at": s["created_at"]}

    def collaborator_view(self, s, email):
        u = self.users[email]
        role = stack_role(s, email)
        roles = [] if role == "owner" else [
            {"uid": "blt" + hashlib.sha1(role.encode()).hexdigest()[:16],
             "name": "Admin" if role == "admin" else "Developer", "admin": role == "admin"}]
        return {"uid": u["uid"], "email": u["email"], "roles": roles}

    def dump(self):
        users = {}
        for e, u in self.users.items():
            users[e] = {"email": u["email"], "uid": u["uid"],
                        "tfa_enabled": bool(u["tfa_secret"] or u["tfa_sms"]),
                        "authtokens": list(u["authtokens"]),
                        "evicted_authtokens": list(u["evicted_authtokens"])}
        stacks = {}
        for k, s in self.stacks.items():
            stacks[k] = {"api_key": k, "name": s["name"], "owner": s["owner"],
                         "members": list(s["members"]), "admins": list(s["admins"]),
                         "limit": s["limit"],
                         "branches": list(s["branches"]), "aliases": dict(s["aliases"]),
                         "tokens": [self.token_view(t, True) for t in s["tokens"]],
                         "deleted": list(s["deleted"]), "evicted": list(s["evicted"])}
        return {"users": users, "stacks": stacks, "clock_offset": self.offset,
                "today": self.today().isoformat()}

    # -- mutations
    def add_token(self, s, fields, creator):
        t = {"uid": uid(), "token": "cs" + secrets.token_hex(16), "api_key": s["api_key"],
             "created_at": self.stamp(), "created_by": creator, "updated_by": creator}
        t["updated_at"] = t["created_at"]
        t.update(fields)
        while len(s["tokens"]) >= s["limit"] > 0:
            old = s["tokens"].pop(0)
            s["evicted"].append(old["uid"])
        s["tokens"].append(t)
        return t

    def rate_remaining(self, who, kind):
        sec = int(time.time())
        last, count = self.rate.get((who, kind), (sec, 0))
        if last != sec:
            count = 0
        count += 1
        self.rate[(who, kind)] = (sec, count)
        return max(0, RATE_LIMIT - count)


STATE = State()

# ---------------------------------------------------------------- validation helpers

DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(v):
    if not isinstance(v, str) or not DATE_RE.fullmatch(v):
        return None
    try:
        return datetime.date.fromisoformat(v)
    except ValueError:
        return None


def is_str_list(v):
    return isinstance(v, list) and v and all(isinstance(x, str) and x for x in v)


def validate_token_fields(s, t):
    """t: merged token fields. Raises ApiError; returns the normalised field dict."""
    errors = {}
    name = t.get("name")
    if not isinstance(name, str) or not name.strip():
        errors["name"] = ["is a required field."]
    desc = t.get("description", "")
    if desc is None:
        desc = ""
    if not isinstance(desc, str):
        errors["description"] = ["must be a string."]
    scope = t.get("scope")
    branches, aliases, has_ref = [], [], False
    if not isinstance(scope, list) or not all(isinstance(x, dict) for x in scope):
        errors["scope"] = ["is a required field and must be a list of objects."]
    else:
        for ent in scope:
            mod = ent.get("module")
            if not isinstance(mod, str) or not mod:
                errors["scope.module"] = ["is a required field."]
            if mod == "branch":
                if is_str_list(ent.get("branches")):
                    has_ref = True
                    branches += ent["branches"]
            elif mod == "branch_alias":
                if is_str_list(ent.get("branch_aliases")):
                    has_ref = True
                    aliases += ent["branch_aliases"]
            if "acl" in ent and not isinstance(ent["acl"], dict):
                errors["scope.acl"] = ["must be an object."]
        if not has_ref:
            errors["scope.branch_or_alias"] = ["is required. Please select a branch or an alias."]
    exp = t.get("expires_on")
    if exp is not None and exp != "" and parse_date(exp) is None:
        errors["expires_on"] = ["must be a date in the format YYYY-MM-DD."]
    notify = t.get("is_email_notification_enabled", False)
    if not isinstance(notify, bool):
        errors["is_email_notification_enabled"] = ["must be a boolean."]
    if errors:
        raise ApiError(422, 119, "Management Token creation failed. Please try again.", errors)
    bad = [b for b in branches if b not in s["branches"]]
    bad += [a for a in aliases if a not in s["aliases"]]
    if bad:
        raise ApiError(422, 900, "Invalid branch(es) provided: %s." % ", ".join(bad),
                       {"branches": ["%s does not exist." % b for b in bad]})
    return {"name": name, "description": desc, "scope": scope,
            "expires_on": exp if exp else None, "is_email_notification_enabled": notify}


def stack_role(s, email):
    """"owner", "admin", "member" or None: what the user with email is on stack s."""
    e = email.lower()
    if e == s["owner"]:
        return "owner"
    if e in s["admins"]:
        return "admin"
    return "member" if e in s["members"] else None


def token_branches(s, t):
    """Branch names a token's scope covers (aliases resolved)."""
    out = set()
    for ent in t["scope"] if isinstance(t["scope"], list) else []:
        if not isinstance(ent, dict):
            continue
        if ent.get("module") == "branch" and isinstance(ent.get("branches"), list):
            out.update(ent["branches"])
        if ent.get("module") == "branch_alias" and isinstance(ent.get("branch_aliases"), list):
            for a in ent["branch_aliases"]:
                out.add(a)
                if a in s["aliases"]:
                    out.add(s["aliases"][a])
    return out


# ---------------------------------------------------------------- the CMA


class Api:
    """One request's worth of CMA logic; called with STATE.lock held."""

    def __init__(self, method, path, query, headers, body, body_error, ctype):
        self.method, self.path, self.query = method, path, query
        self.h, self.body, self.body_error, self.ctype = headers, body, body_error, ctype
        self.rate_who = None

    def json_body(self):
        if self.method in ("POST", "PUT"):
            if self.ctype.split(";")[0].strip().lower() != "application/json":
                raise ApiError(415, 415, "Content-Type must be application/json.")
        if self.body_error:
            raise ApiError(400, 100, "The request body is not valid JSON.")
        return self.body

    def bearer(self):
        """The live OAuth access token of an "authorization: Bearer" header, or None."""
        auth = self.h.get("authorization", "")
        if not auth.startswith("Bearer "):
            return None
        tok = auth[7:]
        for k, a in STATE.oauth_access.items():
            if hmac.compare_digest(k.encode(), tok.encode()) and a["expires"] > STATE.now():
                return a
        raise ApiError(401, 105, MSG_105, {"authorization": ["is not valid."]})

    def authtoken_user(self):
        a = self.bearer()
        if a is not None:
            self.rate_who = a["user"]
            return STATE.users[a["user"]], None
        tok = self.h.get("authtoken")
        email = None
        if tok:
            for k, e in STATE.authtokens.items():
                if hmac.compare_digest(k.encode(), tok.encode()):
                    email = e
        if email is None:
            raise ApiError(401, 105, MSG_105, {"authtoken": ["is not valid."]})
        self.rate_who = email
        return STATE.users[email], tok

    def no_authorization(self):
        if "authorization" in self.h and not self.h["authorization"].startswith("Bearer "):
            raise ApiError(401, 105, MSG_105, {"authorization": ["is not valid."]})

    def stack(self):
        k = self.h.get("api_key")
        if not k or k not in STATE.stacks:
            raise ApiError(412, 109, MSG_109, {"api_key": ["is not valid."]})
        self.rate_who = k
        return STATE.stacks[k]

    def member_stack(self):
        self.no_authorization()
        s = self.stack()
        u, _ = self.authtoken_user()
        self.rate_who = s["api_key"]
        if not stack_role(s, u["email"]):
            raise ApiError(412, 109, MSG_109, {"api_key": ["is not valid."]})
        return s, u

    def admin_stack(self):
        """The stack of a management-token request: its owner or an admin only."""
        s, u = self.member_stack()
        a = self.bearer()
        if a is not None and self.h.get("organization_uid") != a["org"]:
            raise ApiError(401, 105, MSG_105, {"organization_uid": ["is not valid."]})
        if stack_role(s, u["email"]) == "member":
            raise ApiError(403, 162, MSG_162)
        return s, u

    def run(self):
        p = self.path.rstrip("/") or "/"
        m = self.method
        routes = [
            (r"/v3/user-session", {"POST": self.login, "DELETE": self.logout}),
            (r"/v3/user", {"GET": self.get_user}),
            (r"/v3/user/request_token_sms", {"POST": self.request_sms}),
            (r"/v3/stacks", {"GET": self.get_stack}),
            (r"/v3/stacks/branches", {"GET": self.list_branches}),
            (r"/v3/stacks/branch_aliases", {"GET": self.list_aliases}),
            (r"/v3/stacks/management_tokens", {"GET": self.list_tokens, "POST": self.create_token}),
            (r"/v3/stacks/management_tokens/([^/]+)",
             {"GET": self.get_token, "PUT": self.update_token, "DELETE": self.delete_token}),
            (r"/v3/environments", {"GET": self.environments}),
            (r"/v3/content_types", {"GET": self.content_types}),
            (r"/apps/([^/]+)/authorize", {"GET": self.oauth_authorize}),
            (r"/token", {"POST": self.oauth_token}),
            (r"/manifests/([^/]+)/authorizations", {"GET": self.oauth_authorizations}),
            (r"/manifests/([^/]+)/authorizations/([^/]+)",
             {"DELETE": self.oauth_authorization_delete}),
        ]
        for pat, methods in routes:
            mm = re.fullmatch(pat, p)
            if mm:
                if m not in methods:
                    raise ApiError(405, 405, "The method %s is not allowed on '%s'." % (m, p))
                return methods[m](*mm.groups())
        raise ApiError(404, 404, "The requested URL '%s' was not found." % p)

    # -- user session
    def credentials(self):
        """The user of a {"user":{"email","password",...}} body, and that "user" object."""
        self.no_authorization()
        b = self.json_body()
        u = b.get("user") if isinstance(b, dict) else None
        email = u.get("email") if isinstance(u, dict) else None
        pw = u.get("password") if isinstance(u, dict) else None
        if not isinstance(email, str) or not isinstance(pw, str):
            raise ApiError(422, 104, MSG_104, {"email": ["or password is invalid."]})
        self.rate_who = email.lower()
        user = STATE.users.get(email.lower())
        if user is None or not hmac.compare_digest(user["password"].encode(), pw.encode()):
            raise ApiError(422, 104, MSG_104)
        return user, u

    def login(self):
        user, u = self.credentials()
        email = user["email"]
        if user["tfa_secret"] or user["tfa_sms"]:
            code = u.get("tfa_token")
            by_sms = (isinstance(code, str) and user["sms_code"] is not None
                      and hmac.compare_digest(user["sms_code"].encode(), code.encode()))
            if by_sms:
                user["sms_code"] = None
            elif not (user["tfa_secret"] and totp_ok(user["tfa_secret"], code)):
                kind = "totp" if user["tfa_secret"] else "sms"
                raise ApiError(401, 294, MSG_294, None, {"tfa_type": kind})
        tok = "blt" + secrets.token_hex(16)
        user["authtokens"].append(tok)
        STATE.authtokens[tok] = email.lower()
        while len(user["authtokens"]) > MAX_AUTHTOKENS:
            old = user["authtokens"].pop(0)
            user["evicted_authtokens"].append(old)
            STATE.authtokens.pop(old, None)
        return 200, {"notice": "Login Successful.", "user": STATE.user_view(user, tok)}

    def request_sms(self):
        user, _ = self.credentials()
        if not (user["tfa_secret"] or user["tfa_sms"]):
            raise ApiError(422, 119, "Two-Factor Authentication is not enabled for this account.")
        user["sms_code"] = "%06d" % secrets.randbelow(1000000)
        user["sms_sent"] += 1
        return 200, {"notice": "Verification code sent to your phone number successfully."}

    def logout(self):
        self.no_authorization()
        if "authorization" in self.h:
            raise ApiError(401, 105, MSG_105, {"authtoken": ["is required."]})
        u, tok = self.authtoken_user()
        u["authtokens"].remove(tok)
        STATE.authtokens.pop(tok, None)
        return 200, {"notice": "You've logged out successfully!"}

    def get_user(self):
        self.no_authorization()
        u, _ = self.authtoken_user()
        return 200, {"user": STATE.user_view(u)}

    def get_stack(self):
        if "api_key" not in self.h:
            return self.list_stacks()
        s, _ = self.member_stack()
        return 200, {"stack": STATE.stack_view(s)}

    def list_stacks(self):
        self.no_authorization()
        u, _ = self.authtoken_user()
        collaborators = urllib.parse.parse_qs(self.query).get("include_collaborators") == ["true"]
        out = []
        for s in STATE.stacks.values():
            if not stack_role(s, u["email"]):
                continue
            v = STATE.stack_view(s)
            if collaborators:
                v["collaborators"] = [STATE.collaborator_view(s, e)
                                      for e in [s["owner"]] + s["admins"] + s["members"]
                                      if e in STATE.users]
            out.append(v)
        return 200, {"stacks": out}

    def list_branches(self):
        s, _ = self.member_stack()
        return 200, {"branches": [
            {"uid": b, "source": "" if i == 0 else s["branches"][0],
             "alias": [{"uid": a} for a, t in s["aliases"].items() if t == b],
             "created_by": s["uid"], "updated_by": s["uid"], "created_at": s["created_at"],
             "updated_at": s["created_at"]} for i, b in enumerate(s["branches"])]}

    def list_aliases(self):
        s, _ = self.member_stack()
        return 200, {"branch_aliases": [
            {"uid": t, "source": "" if t == s["branches"][0] else s["branches"][0],
             "alias": a, "deleted_at": False, "created_by": s["uid"], "updated_by": s["uid"],
             "created_at": s["created_at"], "updated_at": s["created_at"]}
            for a, t in s["aliases"].items()]}

    # -- management tokens
    def find_token(self, s, tuid):
        for t in s["tokens"]:
            if t["uid"] == tuid:
                return t
        raise ApiError(422, 141, "Management Token was not found.", {"uid": ["is not valid."]})

    def token_payload(self):
        b = self.json_body()
        t = b.get("token") if isinstance(b, dict) else None
        if not isinstance(t, dict):
            raise ApiError(422, 119, "Management Token creation failed. Please try again.",
                           {"token": ["is a required field."]})
        return t

    def create_token(self):
        s, u = self.admin_stack()
        fields = validate_token_fields(s, self.token_payload())
        t = STATE.add_token(s, fields, u["uid"])
        if "next_token" in s:
            t["token"] = s.pop("next_token")
        return 200, {"notice": "Management Token created successfully.",
                     "token": STATE.token_view(t, True)}

    def list_tokens(self):
        s, _ = self.admin_stack()
        out = {"tokens": [STATE.token_view(t) for t in s["tokens"]]}
        if urllib.parse.parse_qs(self.query).get("include_count") == ["true"]:
            out["count"] = len(s["tokens"])
        return 200, out

    def get_token(self, tuid):
        s, _ = self.admin_stack()
        return 200, {"token": STATE.token_view(self.find_token(s, tuid))}

    def update_token(self, tuid):
        s, u = self.admin_stack()
        t = self.find_token(s, tuid)
        merged = {k: t[k] for k in ("name", "description", "scope", "expires_on",
                                    "is_email_notification_enabled")}
        merged.update(self.token_payload())
        t.update(validate_token_fields(s, merged))
        t["updated_at"] = STATE.stamp()
        t["updated_by"] = u["uid"]
        return 200, {"notice": "Management Token updated successfully.",
                     "token": STATE.token_view(t)}

    def delete_token(self, tuid):
        s, _ = self.admin_stack()
        t = self.find_token(s, tuid)
        s["tokens"].remove(t)
        s["deleted"].append(t["uid"])
        return 200, {"notice": "Management Token deleted successfully."}

    # -- reading with a management token
    def token_access(self):
        s = self.stack()
        auth = self.h.get("authorization")
        if (auth is None and "authtoken" in self.h) or (auth or "").startswith("Bearer "):
            u, _ = self.authtoken_user()
            self.rate_who = s["api_key"]
            if not stack_role(s, u["email"]):
                raise ApiError(412, 109, MSG_109, {"api_key": ["is not valid."]})
            return s
        found = None
        for t in s["tokens"]:
            if auth and hmac.compare_digest(t["token"].encode(), auth.encode()):
                found = t
        if found is not None and found["expires_on"]:
            if STATE.today() >= datetime.date.fromisoformat(found["expires_on"]):
                found = None
        if found is None:
            raise ApiError(401, 105, MSG_105, {"authorization": ["is not valid."]})
        br = self.h.get("branch")
        if br:
            if br not in s["branches"] and br not in s["aliases"]:
                raise ApiError(422, 900, "Branch '%s' was not found." % br,
                               {"branch": ["is not valid."]})
            covered = token_branches(s, found)
            if br not in covered and s["aliases"].get(br) not in covered:
                raise ApiError(401, 161, "You're not allowed to access branch '%s'." % br)
        return s

    # -- OAuth 2.0: the authorize page, the token endpoint, authorizations
    def oauth_authorize(self, app_id):
        app = STATE.oauth_app
        q = urllib.parse.parse_qs(self.query)
        one = lambda k: (q.get(k) or [None])[0]
        if (app_id != app["app_id"] or one("response_type") != "code"
                or one("client_id") != app["client_id"]
                or one("code_challenge_method") != "S256" or not one("code_challenge")):
            return 400, {"error": "invalid_request",
                         "error_description": "unknown app, client or PKCE parameters"}
        sep = "&" if "?" in app["redirect"] else "?"
        if not app["user"] or app["user"] not in STATE.users:
            return 302, {"redirect": app["redirect"] + sep + "error=access_denied"}
        code = secrets.token_hex(16)
        STATE.oauth_codes[code] = {"challenge": one("code_challenge"), "user": app["user"],
                                   "issued": STATE.now(), "client_id": app["client_id"]}
        return 302, {"redirect": app["redirect"] + sep + "code=" + code + "&location=NA"}

    def oauth_form(self):
        if self.ctype.split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
            raise ApiError(415, 415, "Content-Type must be application/x-www-form-urlencoded.")
        raw = self.body if isinstance(self.body, str) else ""
        if not self.body_error and self.body is not None:
            raw = json.dumps(self.body)  # a form that happened to parse as JSON: not a form
        q = urllib.parse.parse_qs(raw, keep_blank_values=True, strict_parsing=False)
        return {k: v[0] for k, v in q.items() if len(v) == 1}

    def oauth_grant(self, user, org, authz):
        access, refresh = "cso" + secrets.token_hex(20), "csr" + secrets.token_hex(20)
        STATE.oauth_access[access] = {"user": user, "org": org, "authz": authz,
                                      "expires": STATE.now() + OAUTH_ACCESS_LIFETIME}
        STATE.oauth_refresh[refresh] = {"user": user, "org": org, "authz": authz}
        self.rate_who = user
        return 200, {"access_token": access, "refresh_token": refresh, "token_type": "Bearer",
                     "expires_in": OAUTH_ACCESS_LIFETIME, "location": "NA",
                     "organization_uid": org, "user_uid": STATE.users[user]["uid"],
                     "authorization_type": "oauth"}

    @staticmethod
    def oauth_refused(why):
        return 400, {"error": "invalid_grant", "error_description": why}

    def oauth_token(self):
        app = STATE.oauth_app
        f = self.oauth_form()
        if f.get("client_id") != app["client_id"] or f.get("redirect_uri") != app["redirect"]:
            return self.oauth_refused("client_id or redirect_uri does not match the app")
        grant = f.get("grant_type")
        if grant == "authorization_code":
            c = STATE.oauth_codes.pop(f.get("code") or "", None)
            if c is None:
                return self.oauth_refused("unknown or already used authorization code")
            if STATE.now() - c["issued"] > OAUTH_CODE_LIFETIME:
                return self.oauth_refused("the authorization code has expired")
            digest = hashlib.sha256((f.get("code_verifier") or "").encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != c["challenge"]:
                return self.oauth_refused("code_verifier does not match the code_challenge")
            authz = uid()
            STATE.oauth_authz[authz] = {"user": c["user"], "created_at": STATE.stamp()}
            return self.oauth_grant(c["user"], app["organization_uid"], authz)
        if grant == "refresh_token":
            r = STATE.oauth_refresh.pop(f.get("refresh_token") or "", None)
            if r is None or r["authz"] not in STATE.oauth_authz:
                return self.oauth_refused("unknown or revoked refresh token")
            return self.oauth_grant(r["user"], r["org"], r["authz"])
        return 400, {"error": "unsupported_grant_type"}

    def oauth_hub_user(self, app_id):
        a = self.bearer()
        if a is None or self.h.get("organization_uid") != a["org"]:
            raise ApiError(401, 105, MSG_105, {"authorization": ["is not valid."]})
        if app_id != STATE.oauth_app["app_id"]:
            raise ApiError(404, 404, "No such app.")
        return a

    def oauth_authorizations(self, app_id):
        self.oauth_hub_user(app_id)
        return 200, {"data": [{"authorization_uid": k,
                               "user": {"uid": STATE.users[v["user"]]["uid"]},
                               "scopes": [], "created_at": v["created_at"]}
                              for k, v in STATE.oauth_authz.items()]}

    def oauth_authorization_delete(self, app_id, authz):
        self.oauth_hub_user(app_id)
        if STATE.oauth_authz.pop(authz, None) is None:
            raise ApiError(404, 404, "No such authorization.")
        for tab in (STATE.oauth_access, STATE.oauth_refresh):
            for k in [k for k, v in tab.items() if v["authz"] == authz]:
                del tab[k]
        return 204, None

    def environments(self):
        s = self.token_access()
        envs = s["environments"]
        lim = urllib.parse.parse_qs(self.query).get("limit")
        if lim and lim[0].isdigit():
            envs = envs[:int(lim[0])]
        return 200, {"environments": envs}

    def content_types(self):
        self.token_access()
        return 200, {"content_types": []}


# ---------------------------------------------------------------- the control API


def need_str(b, k, optional=False):
    v = b.get(k)
    if v is None and optional:
        return None
    if not isinstance(v, str) or not v:
        raise CtlError("'%s' must be a non-empty string" % k)
    return v


def ctl(method, path, query, body):
    """Returns (status, obj). Called with STATE.lock held."""
    p = path.rstrip("/")
    b = body if isinstance(body, dict) else {}
    if method in ("POST",) and body is not None and not isinstance(body, dict):
        raise CtlError("body must be a JSON object")
    if (method, p) == ("POST", "/_emu/users"):
        email = need_str(b, "email").lower()
        pw = need_str(b, "password")
        sec = need_str(b, "tfa_secret", True)
        if sec:
            totp_at(sec, 0)  # raises on bad Base32
        sms = b.get("sms", False)
        if not isinstance(sms, bool):
            raise CtlError("'sms' must be a boolean")
        u = STATE.users.get(email)
        if u is None:
            u = {"uid": uid(), "email": b["email"], "created_at": STATE.stamp(),
                 "authtokens": [], "evicted_authtokens": [], "sms_code": None, "sms_sent": 0}
            STATE.users[email] = u
        u["password"], u["tfa_secret"], u["tfa_sms"] = pw, sec, sms
        return 200, {"user": STATE.user_view(u)}
    if (method, p) == ("POST", "/_emu/stacks"):
        k = need_str(b, "api_key")
        s = STATE.stacks.get(k)
        if s is None:
            s = {"api_key": k, "uid": uid(), "name": "stack " + k, "created_at": STATE.stamp(),
                 "owner": None, "members": [], "admins": [], "limit": DEFAULT_LIMIT,
                 "branches": ["main", "development"], "aliases": {"deploy": "main"},
                 "tokens": [], "deleted": [], "evicted": [],
                 "environments": [
                     {"name": n, "uid": uid(), "urls": [{"locale": "en-us",
                                                          "url": "https://%s.example" % n}]}
                     for n in ("development", "production")]}
        if "owner" in b or s["owner"] is None:
            s["owner"] = need_str(b, "owner").lower()
        if "name" in b:
            s["name"] = need_str(b, "name")
        if "limit" in b:
            if not isinstance(b["limit"], int) or isinstance(b["limit"], bool) or b["limit"] < 1:
                raise CtlError("'limit' must be a positive integer")
            s["limit"] = b["limit"]
        if "branches" in b:
            if not is_str_list(b["branches"]):
                raise CtlError("'branches' must be a non-empty list of strings")
            s["branches"] = list(b["branches"])
        if "aliases" in b:
            a = b["aliases"]
            if isinstance(a, list) and all(isinstance(x, str) and x for x in a):
                s["aliases"] = {x: s["branches"][0] for x in a}
            elif isinstance(a, dict) and all(isinstance(v, str) for v in a.values()):
                s["aliases"] = dict(a)
            else:
                raise CtlError("'aliases' must be a list of names or an object alias -> branch")
        for who in ("members", "admins"):
            if who in b:
                if not isinstance(b[who], list) or not all(isinstance(x, str) for x in b[who]):
                    raise CtlError("'%s' must be a list of emails" % who)
                s[who] = [x.lower() for x in b[who]]
        if "next_token" in b:
            s["next_token"] = need_str(b, "next_token")
        STATE.stacks[k] = s
        return 200, {"stack": STATE.stack_view(s)}
    if (method, p) == ("POST", "/_emu/tokens"):
        k = need_str(b, "api_key")
        if k not in STATE.stacks:
            raise CtlError("no stack '%s'" % k)
        exp = b.get("expires_on")
        if exp is not None and parse_date(exp) is None:
            raise CtlError("'expires_on' must be YYYY-MM-DD")
        fields = {"name": need_str(b, "name"), "description": b.get("description", ""),
                  "scope": b.get("scope", [{"module": "branch", "branches": ["main"],
                                            "acl": {"read": True}}]),
                  "expires_on": exp, "is_email_notification_enabled": False}
        if "uid" in b:
            fields["uid"] = need_str(b, "uid")
        t = STATE.add_token(STATE.stacks[k], fields, "foreign")
        return 200, STATE.token_view(t, True)
    m = re.fullmatch(r"/_emu/tokens/([^/]+)", p)
    if m and method == "DELETE":
        for s in STATE.stacks.values():
            for t in s["tokens"]:
                if t["uid"] == m.group(1):
                    s["tokens"].remove(t)
                    s["deleted"].append(t["uid"])
                    return 200, {"deleted": t["uid"]}
        raise CtlError("no token '%s'" % m.group(1))
    if (method, p) == ("POST", "/_emu/revoke_authtokens"):
        email = need_str(b, "email").lower()
        u = STATE.users.get(email)
        if u is None:
            raise CtlError("no user '%s'" % email)
        for tok in u["authtokens"]:
            STATE.authtokens.pop(tok, None)
        n = len(u["authtokens"])
        u["authtokens"] = []
        return 200, {"revoked": n}
    if (method, p) == ("POST", "/_emu/oauth"):
        app = STATE.oauth_app
        for k in ("app_id", "client_id", "redirect", "organization_uid"):
            if k in b:
                app[k] = need_str(b, k)
        if "user" in b:
            app["user"] = need_str(b, "user").lower()
        return 200, {"app": app}
    if (method, p) == ("GET", "/_emu/oauth"):
        return 200, {"app": STATE.oauth_app, "codes": len(STATE.oauth_codes),
                     "refresh_tokens": list(STATE.oauth_refresh),
                     "access_tokens": list(STATE.oauth_access),
                     "authorizations": [dict(v, authorization_uid=k)
                                        for k, v in STATE.oauth_authz.items()]}
    if (method, p) == ("POST", "/_emu/oauth/revoke_refresh"):
        email = need_str(b, "email").lower()
        gone = [k for k, v in STATE.oauth_refresh.items() if v["user"] == email]
        for k in gone:
            del STATE.oauth_refresh[k]
        return 200, {"revoked": len(gone)}
    if (method, p) == ("GET", "/_emu/state"):
        return 200, STATE.dump()
    if (method, p) == ("GET", "/_emu/sms"):
        email = (urllib.parse.parse_qs(query).get("email") or [""])[0].lower()
        u = STATE.users.get(email)
        if u is None:
            raise CtlError("no user '%s'" % email)
        return 200, {"email": u["email"], "code": u["sms_code"], "sent": u["sms_sent"]}
    if (method, p) == ("GET", "/_emu/requests"):
        q = urllib.parse.parse_qs(query)
        out = STATE.requests
        if "path" in q:
            out = [r for r in out if r["path"].startswith(q["path"][0])]
        if "method" in q:
            out = [r for r in out if r["method"] == q["method"][0].upper()]
        return 200, out
    if (method, p) == ("DELETE", "/_emu/requests"):
        STATE.requests = []
        return 200, {"cleared": True}
    if (method, p) == ("POST", "/_emu/faults"):
        path_prefix = need_str(b, "path")
        meth = need_str(b, "method", True)
        resp = b.get("responses")
        if not isinstance(resp, list) or not resp or not all(isinstance(r, dict) for r in resp):
            raise CtlError("'responses' must be a non-empty list of objects")
        for r in resp:
            check_fault(r)
        STATE.faults.append({"method": meth.upper() if meth else None, "path": path_prefix,
                             "responses": list(resp)})
        return 200, {"faults": STATE.faults}
    if (method, p) == ("GET", "/_emu/faults"):
        return 200, {"faults": STATE.faults}
    if (method, p) == ("DELETE", "/_emu/faults"):
        STATE.faults = []
        return 200, {"faults": []}
    if (method, p) == ("POST", "/_emu/reset"):
        for held in STATE.holds.values():
            held.set()  # nothing stays held past a reset
        STATE.holds = {}
        if b.get("all") is True:
            STATE.clear_all()
        else:
            STATE.requests = []
            STATE.faults = []
        return 200, {"reset": True}
    if (method, p) == ("POST", "/_emu/release"):
        name = (b or {}).get("hold") if isinstance(b, dict) else None
        if not isinstance(name, str) or not name:
            raise CtlError("give the 'hold' name to release")
        hold_event(name).set()
        return 200, {"released": name}
    if (method, p) == ("POST", "/_emu/clock"):
        if "offset_days" in b:
            v = b["offset_days"]
            mult = 86400
        else:
            v = b.get("offset_seconds")
            mult = 1
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise CtlError("give 'offset_seconds' or 'offset_days' as a number")
        STATE.offset = float(v) * mult
        return 200, {"today": STATE.today().isoformat(), "clock_offset": STATE.offset}
    raise CtlError("no control endpoint %s %s" % (method, p))


FAULT_KEYS = {"status", "headers", "body", "reset", "delay", "raw", "truncate", "redirect",
              "process", "hold"}
HOLD_LIMIT = 300


def hold_event(name):
    """The event a request held as name waits for (STATE.lock held)."""
    return STATE.holds.setdefault(name, threading.Event())


def check_fault(r):
    bad = set(r) - FAULT_KEYS
    if bad:
        raise CtlError("unknown fault keys: %s" % ", ".join(sorted(bad)))
    if "status" in r and (not isinstance(r["status"], int) or not 100 <= r["status"] <= 599):
        raise CtlError("'status' must be an HTTP status code")
    if "delay" in r and (not isinstance(r["delay"], (int, float)) or r["delay"] < 0):
        raise CtlError("'delay' must be a number of seconds")
    if "headers" in r and not isinstance(r["headers"], dict):
        raise CtlError("'headers' must be an object")
    if "raw" in r and not isinstance(r["raw"], str):
        raise CtlError("'raw' must be a string")
    if "redirect" in r and not isinstance(r["redirect"], str):
        raise CtlError("'redirect' must be a string")
    if "hold" in r and (not isinstance(r["hold"], str) or not r["hold"]):
        raise CtlError("'hold' must be a name")


def take_fault(method, path):
    for f in STATE.faults:
        if f["method"] and f["method"] != method:
            continue
        if not path.startswith(f["path"]):
            continue
        r = f["responses"].pop(0)
        if not f["responses"]:
            STATE.faults.remove(f)
        return r
    return None


# ---------------------------------------------------------------- HTTP


def reason_body(status):
    if status in (502, 503, 504):
        name = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}[status]
        return ("<html><head><title>%d %s</title></head><body><h1>%d %s</h1></body></html>\n"
                % (status, name, status, name)), "text/html"
    if status == 429:
        return {"error_message": "Too many requests. Please try again later.",
                "error_code": 429}, None
    return {"error_message": "Something went wrong. Please try again.", "error_code": status}, None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cma-emulator"

    def version_string(self):
        return self.server_version
    timeout = 120

    def handle(self):
        try:
            super().handle()
        except (OSError, ssl.SSLError):
            pass

    def log_message(self, fmt, *args):
        sys.stderr.write("emu %s %s\n" % (self.log_date_time_string(), fmt % args))

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    # -- request body
    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            data = b""
            while True:
                line = self.rfile.readline(100)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1000) not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                if len(data) + size > MAX_BODY:
                    raise ValueError("body too large")
                data += self.rfile.read(size)
                self.rfile.readline(10)
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(n) if n else b""

    # -- responses
    def send(self, status, obj, headers=None, ctype=None, raw=None):
        if raw is not None:
            data = raw
        elif isinstance(obj, str):
            data = obj.encode()
        else:
            data = json.dumps(obj).encode()
        self.send_response(status)
        hdrs = {"Content-Type": ctype or "application/json; charset=utf-8"}
        hdrs.update(headers or {})
        for k, v in hdrs.items():
            if k.lower() != "content-length":
                self.send_header(k, str(v))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()

    def reset_connection(self):
        self.close_connection = True
        try:
            self.wfile.flush()
        except OSError:
            pass
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            self.connection.close()
        except OSError:
            pass

    def close_gracefully(self):
        """TLS close_notify, then close: the client sees a clean end of a short body."""
        self.close_connection = True
        try:
            self.connection.unwrap().close()
        except (OSError, ValueError, ssl.SSLError):
            try:
                self.connection.close()
            except OSError:
                pass

    def dispatch(self):
        try:
            self.dispatch_inner()
        except (OSError, ssl.SSLError):
            self.close_connection = True
        except Exception:  # a malformed request never kills the emulator
            traceback.print_exc()
            self.close_connection = True
            try:
                self.send(500, {"error_message": "emulator error", "error_code": 500})
            except Exception:
                pass

    def dispatch_inner(self):
        method = self.command.upper()
        split = urllib.parse.urlsplit(self.path)
        path, query = split.path, split.query
        try:
            raw_body = self.read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self.send(400, {"error_message": "Malformed request body.", "error_code": 100})
            return
        body, body_error = None, False
        if raw_body:
            try:
                body = json.loads(raw_body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                body, body_error = raw_body.decode("utf-8", "replace"), True
        headers = {}
        for k, v in self.headers.items():
            k = k.lower()
            headers[k] = headers[k] + ", " + v if k in headers else v

        if path.startswith("/_emu/"):
            with STATE.lock:
                try:
                    if body_error:
                        raise CtlError("body is not JSON")
                    status, obj = ctl(method, path, query, body)
                except CtlError as e:
                    status, obj = 400, {"error": str(e)}
            self.send(status, obj)
            return

        auth = headers.get("authorization")
        entry = {"method": method, "path": path, "query": query, "headers": headers,
                 "body": body,
                 "auth": ("bearer" if auth.startswith("Bearer ") else "token") if auth
                 else ("authtoken" if "authtoken" in headers else None)}
        with STATE.lock:
            STATE.requests.append(entry)
            fault = take_fault(method, path)
            if fault is not None:
                entry["fault"] = fault
        if fault and fault.get("hold"):
            with STATE.lock:
                held = hold_event(fault["hold"])
            if not held.wait(HOLD_LIMIT):
                return self.send(503, {"error": "held as %r and never released" % fault["hold"]})
        if fault and fault.get("delay"):
            time.sleep(float(fault["delay"]))
        actions = set(fault or {}) - {"delay", "hold", "headers", "body", "process"}
        if fault and "status" in fault and "raw" in fault:
            actions.discard("status")

        if not actions:
            return self.answer(method, path, query, headers, body, body_error,
                               (fault or {}).get("headers"))
        if "truncate" in actions:
            status, obj, hdrs = self.process(method, path, query, headers, body, body_error)
            data = json.dumps(obj).encode()
            self.close_connection = True
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            for k, v in hdrs.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data) + 1024))
            self.end_headers()
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            self.close_gracefully()
            return
        if fault.get("process"):
            self.process(method, path, query, headers, body, body_error)
        if "reset" in actions:
            self.reset_connection()
            return
        if "redirect" in actions:
            self.send(302, {"error_message": "Moved.", "error_code": 302},
                      dict({"Location": fault["redirect"]}, **fault.get("headers", {})))
            return
        if "raw" in actions:
            self.send(fault.get("status", 200), None, fault.get("headers"),
                      raw=fault["raw"].encode())
            return
        status = fault["status"]
        hdrs = {"X-RateLimit-Limit": str(RATE_LIMIT),
                "X-RateLimit-Remaining": "0" if status == 429 else str(RATE_LIMIT - 1)}
        if "body" in fault:
            obj, ctype = fault["body"], None
        else:
            obj, ctype = reason_body(status)
        hdrs.update(fault.get("headers", {}))
        self.send(status, obj, hdrs, ctype=ctype)

    def process(self, method, path, query, headers, body, body_error):
        api = Api(method, path, query, headers, body, body_error,
                  headers.get("content-type", ""))
        with STATE.lock:
            try:
                status, obj = api.run()
            except ApiError as e:
                status, obj = e.status, e.body
            kind = "read" if method in ("GET", "HEAD") else "write"
            remaining = STATE.rate_remaining(api.rate_who or "anonymous", kind)
        hdrs = {"X-RateLimit-Limit": str(RATE_LIMIT), "X-RateLimit-Remaining": str(remaining)}
        return status, obj, hdrs

    def answer(self, method, path, query, headers, body, body_error, extra_headers):
        status, obj, hdrs = self.process(method, path, query, headers, body, body_error)
        hdrs.update(extra_headers or {})
        if status == 302:
            hdrs["Location"] = obj["redirect"]
            obj = {"notice": "Redirecting."}
        if status == 204:
            return self.send(204, None, hdrs, raw=b"")
        self.send(status, obj, hdrs)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, addr, ctx):
        self.ctx = ctx
        super().__init__(addr, Handler)

    def finish_request(self, request, client_address):
        # TLS handshake in the connection's own thread: a silent client blocks nobody.
        conn = None
        try:
            request.settimeout(10)
            conn = self.ctx.wrap_socket(request, server_side=True)
            self.RequestHandlerClass(conn, client_address, self)
        except (OSError, ssl.SSLError):
            pass
        finally:
            if conn is not None:
                try:
                    conn.close()
                except OSError:
                    pass

    def handle_error(self, request, client_address):
        traceback.print_exc()


# ---------------------------------------------------------------- certificates

OPENSSL_CNF = """
[ ca ]
default_ca = emu_ca
[ emu_ca ]
dir = {dir}
database = {dir}/index.txt
new_certs_dir = {dir}
serial = {dir}/serial
default_md = sha256
policy = emu_policy
unique_subject = no
copy_extensions = none
[ emu_policy ]
commonName = supplied
[ req ]
distinguished_name = emu_dn
prompt = no
[ emu_dn ]
CN = placeholder
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_server ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_ca(d, name, cn, cnf):
    """A self-signed CA valid 2000..2099 (so faketime'd clients in either direction accept it)."""
    key, csr, pem = (os.path.join(d, name + ext) for ext in (".key", ".csr", ".pem"))
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key)
    openssl("req", "-new", "-config", cnf, "-key", key, "-subj", "/CN=" + cn, "-out", csr)
    openssl("ca", "-batch", "-config", cnf, "-selfsign", "-keyfile", key, "-in", csr,
            "-startdate", "20000101000000Z", "-enddate", "20991231000000Z",
            "-extensions", "v3_ca", "-notext", "-out", pem)
    return key, pem


def make_certs(d):
    work = os.path.join(d, "pki")
    os.makedirs(work, exist_ok=True)
    cnf = os.path.join(work, "openssl.cnf")
    with open(cnf, "w") as f:
        f.write(OPENSSL_CNF.format(dir=work))
    open(os.path.join(work, "index.txt"), "w").close()
    with open(os.path.join(work, "serial"), "w") as f:
        f.write(secrets.token_hex(8).upper() + "\n")
    ca_key, ca_pem = make_ca(work, "ca", "cstoken test CA %s" % secrets.token_hex(4), cnf)
    _, wrong_pem = make_ca(work, "wrong-ca", "cstoken wrong CA %s" % secrets.token_hex(4), cnf)
    skey, scsr, spem = (os.path.join(work, "server" + e) for e in (".key", ".csr", ".pem"))
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", skey)
    openssl("req", "-new", "-config", cnf, "-key", skey, "-subj", "/CN=localhost", "-out", scsr)
    openssl("ca", "-batch", "-config", cnf, "-cert", ca_pem, "-keyfile", ca_key, "-in", scsr,
            "-startdate", "20000101000000Z", "-enddate", "20991231000000Z",
            "-extensions", "v3_server", "-notext", "-out", spem)
    return ca_pem, wrong_pem, spem, skey


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(data)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description="Contentstack CMA emulator for tests")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    d = os.path.abspath(a.dir)
    os.makedirs(d, exist_ok=True)
    port_file = os.path.join(d, "port")
    for f in (port_file, os.path.join(d, "ca.pem")):
        if os.path.exists(f):
            os.unlink(f)
    try:
        ca_pem, wrong_pem, spem, skey = make_certs(d)
    except subprocess.CalledProcessError as e:
        sys.stderr.write("cma_emulator: openssl failed: %s\n%s\n" % (e.cmd, e.stderr.decode()))
        return 1
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(spem, skey)
    srv = Server(("127.0.0.1", a.port), ctx)

    def stop(signum, frame):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with open(wrong_pem) as f:
        write_atomic(os.path.join(d, "wrong-ca.pem"), f.read())
    with open(ca_pem) as f:
        write_atomic(os.path.join(d, "ca.pem"), f.read())
    write_atomic(port_file, "%d\n" % srv.server_address[1])
    sys.stderr.write("cma_emulator: listening on https://127.0.0.1:%d\n" % srv.server_address[1])
    sys.stderr.flush()
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        srv.server_close()
        try:
            os.unlink(port_file)
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
