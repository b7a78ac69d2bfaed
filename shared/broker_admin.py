"""Broker users and what each may do, and queues no longer in use, through RabbitMQ's
management API (`cs migrate`).

Every service and every outside system reaches the broker as a user of its own, so the broker
can vouch for who published an event: it refuses a `user_id` property that is not the
connection's user. Permissions follow the catalogue: a user may write to `cs.events` (services)
or `cs.inbound` (outside systems) only the routing keys of the types it produces (topic
permissions), declare only its own queues, and read only its own queues. `guest` stays for
development tools; consumers refuse what it publishes ("unauthorized producer").
"""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from shared.config import OUTSIDE_SYSTEMS, SERVICES, Settings
from shared.events.catalogue import EVENTS_EXCHANGE, INBOUND_EXCHANGE, exchange_of, produced_by

NOTHING = "^$"


class BrokerAdminError(RuntimeError):
    """The management API refused or could not be reached; the message says what to do."""


def vhost_of(settings: Settings) -> str:
    """The virtual host AMQP_URL names (`/` when it names none)."""
    path = urlsplit(settings.amqp_url.split(",")[0].strip()).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def _names(*names: str) -> str:
    """A regular expression matching exactly these broker names (with the settings' prefix)."""
    return "^(" + "|".join(re.escape(n) for n in names) + ")$"


def permissions_of(settings: Settings, user: str) -> dict[str, str]:
    """Configure, write and read permissions of one user on the platform's vhost."""
    events, inbound = settings.exchange(EVENTS_EXCHANGE), settings.exchange(INBOUND_EXCHANGE)
    own = "^" + re.escape(settings.queue(f"{user}.")) + ".*$"
    if user in OUTSIDE_SYSTEMS:
        # publishes into cs.inbound; may consume events in queues of its own (`portal.*`)
        return {
            "configure": own,
            "write": f"{own}|{_names(inbound)}",
            "read": f"{own}|{_names(events)}",
        }
    return {
        # its queues and its partition exchange; the shared exchanges are declared by anyone
        "configure": f"{own}|{_names(events, inbound)}",
        # publishing, binding its queues, dead-lettering through the default exchange
        "write": f"{own}|{_names(events, 'amq.default')}",
        "read": f"{own}|{_names(events, inbound)}",
    }


def topic_permissions_of(settings: Settings, user: str) -> list[dict[str, str]]:
    """The routing keys (event types) the user may publish, per topic exchange."""
    types = produced_by(user)
    result = []
    for exchange in (EVENTS_EXCHANGE, INBOUND_EXCHANGE):
        mine = [t for t in types if exchange_of(user) == exchange]
        write = "^(" + "|".join(re.escape(t) for t in mine) + ")$" if mine else NOTHING
        result.append({"exchange": settings.exchange(exchange), "write": write, "read": ".*"})
    return result


class BrokerAdmin:
    """A small client of the management HTTP API (`CS_BROKER_ADMIN_URL`)."""

    def __init__(self, settings: Settings) -> None:
        parts = urlsplit(settings.broker_admin_url)
        self.base = f"{parts.scheme}://{parts.hostname}:{parts.port or 15672}/api"
        user, password = unquote(parts.username or "guest"), unquote(parts.password or "guest")
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base + path, data=data, method=method, headers=self.headers
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                text = response.read()
        except urllib.error.HTTPError as e:
            if method == "DELETE" and e.code == 404:
                return None
            raise BrokerAdminError(
                f"the broker's management API answered {e.code} to {method} {path}"
            ) from None
        except OSError as e:
            raise BrokerAdminError(
                f"the broker's management API at {self.base} does not answer ({e}): enable it"
                " with `rabbitmq-plugins enable rabbitmq_management` or set CS_BROKER_ADMIN_URL"
            ) from None
        return json.loads(text) if text else None

    def ensure_vhost(self, vhost: str) -> None:
        self.call("PUT", f"/vhosts/{quote(vhost, safe='')}", {})

    def delete_vhost(self, vhost: str) -> None:
        self.call("DELETE", f"/vhosts/{quote(vhost, safe='')}")

    def grant_all(self, vhost: str, user: str) -> None:
        """Full rights for a development tool's user (guest) on a vhost of its own."""
        body = {"configure": ".*", "write": ".*", "read": ".*"}
        self.call("PUT", f"/permissions/{quote(vhost, safe='')}/{quote(user, safe='')}", body)

    def queues(self, vhost: str) -> list[dict[str, Any]]:
        return self.call("GET", f"/queues/{quote(vhost, safe='')}?columns=name,messages") or []

    def unbind(self, vhost: str, queue: str) -> None:
        """Removes the queue's bindings: nothing new arrives in it."""
        v, q = quote(vhost, safe=""), quote(queue, safe="")
        for b in self.call("GET", f"/queues/{v}/{q}/bindings") or []:
            if b["source"]:
                source, key = quote(b["source"], safe=""), quote(b["properties_key"], safe="")
                self.call("DELETE", f"/bindings/{v}/e/{source}/q/{q}/{key}")


def ensure_users(settings: Settings) -> list[str]:
    """Creates or updates every platform user, its password and its permissions; idempotent.

    Returns the users it set up."""
    admin = BrokerAdmin(settings)
    vhost = quote(vhost_of(settings), safe="")
    users = [*SERVICES, *OUTSIDE_SYSTEMS]
    for user in users:
        name = quote(user, safe="")
        password = settings.broker_passwords.get(user, f"{user}-local")
        admin.call("PUT", f"/users/{name}", {"password": password, "tags": ""})
        admin.call("PUT", f"/permissions/{vhost}/{name}", permissions_of(settings, user))
        for topic in topic_permissions_of(settings, user):
            admin.call("PUT", f"/topic-permissions/{vhost}/{name}", topic)
    return users


def prepare_vhost(settings: Settings) -> None:
    """A virtual host of its own (the tests', a benchmark's): created, AMQP_URL's user given
    full rights on it (the development tools' user: purging, publishing as a stranger), and
    the platform's users set up on it."""
    admin = BrokerAdmin(settings)
    vhost = vhost_of(settings)
    admin.ensure_vhost(vhost)
    admin.grant_all(vhost, unquote(urlsplit(settings.amqp_url.split(",")[0]).username or "guest"))
    ensure_users(settings)


def retire_queues(settings: Settings) -> list[tuple[str, int]]:
    """Event queues no longer in use — the single queue per service of earlier releases, and
    partitions beyond `CS_PARTITIONS` — unbound, what they hold moved into their service's
    partitions, and deleted. One still being read is left (its consumers drain it). Returns
    each with how many messages moved, or -1 when it was left."""
    from shared.broker import connect, partition_queues
    from shared.dead_letters import move_to_partitions

    admin = BrokerAdmin(settings)
    vhost = vhost_of(settings)
    current = {q for s in SERVICES for q in partition_queues(settings, s)}
    services = "|".join(SERVICES)
    pattern = re.compile(f"^{re.escape(settings.queue(''))}({services})\\.events(\\.\\d+)?$")
    retired = []
    conn = connect(settings, name="cs-migrate-retire")
    try:
        channel = conn.channel()
        for queue in admin.queues(vhost):
            name, match = queue["name"], pattern.match(queue["name"])
            if not match or name in current:
                continue
            admin.unbind(vhost, name)
            # the broker's own figures (the management API's lag); a reader may hold unacked ones
            if channel.queue_declare(name, passive=True).method.consumer_count:
                retired.append((name, -1))
                continue
            moved = move_to_partitions(settings, match.group(1), name)
            channel.queue_delete(name)
            retired.append((name, moved))
    finally:
        conn.close()
    return retired
