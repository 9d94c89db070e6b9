"""A real SMTP server for Hirewire's tests (Debian's python3-aiosmtpd).

usage: smtp_sink.py PORT MAILDIR [--tls CERT KEY] [--auth USER:PASSWORD] [--delay SECONDS]

Accepts mail into MAILDIR (one file per message in MAILDIR/new), answers 550 for recipients
whose address starts with "reject", offers STARTTLS with --tls and requires AUTH with --auth.
With --delay it stores each message and then waits before answering 250 (a window in which the
client can die after the server took the message).
Prints "ready" once it listens.
"""
import asyncio
import mailbox
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, path, delay=0.0):
        self.box = mailbox.Maildir(path, create=True)
        self.delay = delay

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().startswith("reject"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8")
        header = ("X-Envelope-From: %s\r\nX-Envelope-To: %s\r\n" % (envelope.mail_from, ", ".join(envelope.rcpt_tos))).encode()
        self.box.add(header + data)
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 Message accepted"


def main():
    port = int(sys.argv[1])
    path = sys.argv[2]
    args = sys.argv[3:]
    kwargs = {}
    if "--tls" in args:
        i = args.index("--tls")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args[i + 1], args[i + 2])
        kwargs["tls_context"] = context
        kwargs["require_starttls"] = True
    if "--auth" in args:
        user, password = args[args.index("--auth") + 1].split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
            return AuthResult(success=ok)

        kwargs["authenticator"] = authenticator
        kwargs["auth_required"] = True
        kwargs["auth_require_tls"] = "--tls" in args
    delay = float(args[args.index("--delay") + 1]) if "--delay" in args else 0.0
    controller = Controller(Sink(path, delay), hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
