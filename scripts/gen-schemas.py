#!/usr/bin/env python3
"""Writes schemas/*.json: JSON Schemas (draft 2020-12) for Hirewire's files and canonical events.

Run after changing the language: `python3 scripts/gen-schemas.py`. The Swift test
SchemaTests checks that the event schemas agree with the compiler's catalog and that every
bundled file validates.
"""
import json, os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "schemas")
BASE = "https://hirewire.dev/schemas/"
D = "https://json-schema.org/draft/2020-12/schema"

ENTITIES = {
    "candidate": {"id": "string", "first_name": "string", "last_name": "string", "preferred_name": "string",
                  "email": "string", "phone": "string", "timezone": "string", "locale": "string"},
    "application": {"id": "string", "stage": "string", "previous_stage": "string", "source": "string",
                    "applied_at": "timestamp", "rejection_reason": "string"},
    "job": {"id": "string", "title": "string", "department": "string", "location": "string", "careers_url": "string"},
    "recruiter": {"id": "string", "name": "string", "email": "string", "slack": "string"},
    "hiring_manager": {"id": "string", "name": "string", "email": "string"},
    "offer": {"id": "string", "expires_at": "timestamp", "tier": "string", "start_date": "string"},
    "assessment": {"id": "string", "name": "string", "score": "number", "max_score": "number", "completed_at": "timestamp"},
    "interview": {"id": "string", "starts_at": "timestamp", "ends_at": "timestamp", "location": "string",
                  "link": "string", "kind": "string", "rebook_url": "string"},
}
BASE_REQ = ["application.id"]
TYPES = {
    "candidate.applied": BASE_REQ + ["candidate.id"], "candidate.stage_changed": BASE_REQ,
    "candidate.replied": BASE_REQ, "candidate.rejected": BASE_REQ, "candidate.withdrawn": BASE_REQ,
    "candidate.hired": BASE_REQ, "assessment.completed": BASE_REQ + ["candidate.id"],
    "interview.scheduled": BASE_REQ, "interview.rescheduled": BASE_REQ, "interview.cancelled": BASE_REQ,
    "offer.extended": BASE_REQ + ["offer.id", "candidate.id"], "offer.viewed": BASE_REQ + ["offer.id"],
    "offer.accepted": BASE_REQ + ["offer.id"], "offer.declined": BASE_REQ + ["offer.id"],
}

def write(name, schema):
    with open(os.path.join(ROOT, name), "w") as f:
        json.dump(schema, f, indent=2)
        f.write("\n")

def s(desc, **kw):
    kw["description"] = desc
    return kw

DURATION = {"type": "string", "pattern": "^(?=\\d)(\\d+w)?(\\d+d)?(\\d+h)?(\\d+m)?(\\d+s)?$",
            "description": "Elapsed time: 90s, 15m, 48h, 2d, 1w, or combinations such as 1d12h."}
EXPR = {"type": "string", "minLength": 1, "description": "An expression (flow language section 4)."}
TEMPLATE = {"type": "string", "description": "A Mustache template over the expression roots."}
EVENT_TYPE = {"type": "string", "anyOf": [{"enum": sorted(TYPES)}, {"pattern": "^x\\.[a-z0-9_.-]+$"}],
              "description": "A canonical event type, or a custom type starting with x."}
STATE = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_-]*$", "description": "A state name."}

def obj(props, required=(), desc=None):
    o = {"type": "object", "properties": props, "additionalProperties": False}
    if required: o["required"] = list(required)
    if desc: o["description"] = desc
    return o

CONNECTORS = {
    "email": obj({"to": TEMPLATE, "template": {"type": "string", "description": "A file in templates/ (without .yaml)."},
                  "subject": TEMPLATE, "text": TEMPLATE, "html": TEMPLATE, "reply_to": TEMPLATE, "cc": TEMPLATE},
                 ["to"], "Send an email (candidate-facing by default)."),
    "sms": obj({"to": TEMPLATE, "text": TEMPLATE}, ["to", "text"], "Send a text message (candidate-facing by default)."),
    "slack": obj({"channel": TEMPLATE, "text": TEMPLATE}, ["text"], "Post to Slack."),
    "teams": obj({"text": TEMPLATE, "title": TEMPLATE}, ["text"], "Post to Microsoft Teams."),
    "http": obj({"method": {"type": "string", "enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]}, "url": TEMPLATE,
                 "headers": {"type": "object", "additionalProperties": TEMPLATE}, "body": {},
                 "sign": {"type": "object", "description": "Outbound signing settings."}},
                ["method", "url"], "Call an HTTP endpoint."),
    "task": obj({"title": TEMPLATE, "assignee": TEMPLATE, "due": DURATION, "notes": TEMPLATE}, ["title"],
                "Create a recruiter task."),
    "crm": obj({"candidate": TEMPLATE, "fields": {"type": "object"}}, ["candidate"], "Upsert the candidate in the CRM."),
    "log": obj({"message": TEMPLATE}, ["message"], "Write to the journey's log."),
    "emit": obj({"type": EVENT_TYPE, "data": {"type": "object", "additionalProperties": EXPR}}, ["type"], "Emit an internal event."),
    "set": obj({"vars": {"type": "object", "additionalProperties": EXPR}}, ["vars"], "Set journey variables (expressions)."),
}

def flow_schema():
    action_props = dict(CONNECTORS)
    action_props.update({
        "if": s("Run the action only when this holds (evaluated where the action stands).", **EXPR),
        "id": {"type": "string", "description": "A stable name for the action."},
        "retry": obj({"attempts": {"type": "integer", "minimum": 1, "maximum": 100}, "backoff": DURATION}),
        "on_error": {"oneOf": [{"const": "continue"}, obj({"goto": STATE}, ["goto"])],
                     "description": "continue (default) or {goto: STATE} once retries are exhausted."},
        "audience": {"enum": ["candidate", "team"], "description": "Who the action reaches; policy applies to candidates."},
        "exempt": {"type": "boolean", "description": "Exempt from quiet hours and max_messages."},
    })
    action = {"type": "object", "properties": action_props, "minProperties": 1,
              "patternProperties": {"^[a-z][a-z0-9_-]*(\\.[a-z][a-z0-9_-]*)?$": {
                  "description": "A plugin connector (NAME or NAME.ACTION) from hirewire.yaml."}},
              "additionalProperties": False, "description": "One action: CONNECTOR: ARGS plus optional sibling keys."}
    actions = {"type": "array", "items": {"$ref": "#/$defs/action"}}
    transition_obj = obj({"goto": STATE, "if": EXPR, "do": {"$ref": "#/$defs/actions"}})
    transition = {"anyOf": [STATE, transition_obj, {"type": "array", "items": {"anyOf": [STATE, transition_obj]}}]}
    timer = obj({"delay": DURATION, "between": {"type": "array", "prefixItems": [DURATION, DURATION], "minItems": 2, "maxItems": 2,
                                                 "description": "[MIN, MAX]: the earliest allowed moment after MIN."},
                 "at": s("A timestamp expression, evaluated when the timer is armed.", **EXPR),
                 "calendar": {"type": "string", "description": "A calendar from hirewire.yaml."},
                 "if": EXPR, "do": {"$ref": "#/$defs/actions"}, "goto": STATE, "late": DURATION})
    timer["oneOf"] = [{"required": ["delay"]}, {"required": ["between"]}, {"required": ["at"]}]
    timers = {"anyOf": [{"$ref": "#/$defs/timer"}, {"type": "array", "items": {"$ref": "#/$defs/timer"}}]}
    choice = {"anyOf": [obj({"if": EXPR, "goto": STATE}, ["if", "goto"]), obj({"else": STATE}, ["else"])]}
    state = {"anyOf": [{"type": "null"}, obj({
        "description": {"type": "string"},
        "do": s("Actions run on entry, in order.", **{"$ref": "#/$defs/actions"}),
        "on": {"type": "object", "propertyNames": EVENT_TYPE, "additionalProperties": {"$ref": "#/$defs/transition"},
               "description": "Event type → transition(s), tried in order."},
        "after": {"$ref": "#/$defs/timers"},
        "choose": {"type": "array", "items": {"$ref": "#/$defs/choice"}, "description": "Immediate branch; must end with else."},
        "end": {"type": "string", "description": "Makes the state final; the outcome label."},
    })]}
    event_types = {"anyOf": [EVENT_TYPE, {"type": "array", "items": EVENT_TYPE, "minItems": 1}]}
    return {
        "$schema": D, "$id": BASE + "flow.json", "title": "Hirewire flow",
        "description": "One candidate journey: trigger, states, transitions, timers and actions.",
        "type": "object", "required": ["flow", "start", "states"], "additionalProperties": False,
        "properties": {
            "flow": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$", "description": "The flow id, unique in the project."},
            "description": {"type": "string"},
            "start": obj({"on": event_types, "key": s("The journey key, evaluated against the start event alone.", **EXPR),
                          "if": EXPR, "reentry": {"enum": ["ignore", "restart", "once"]}}, ["on", "key"]),
            "timeout": s("Ends the journey with outcome timed_out (default 90d).", **DURATION),
            "let": {"type": "object", "additionalProperties": EXPR, "description": "Named expressions."},
            "require": {"type": "array", "items": EXPR, "description": "Paths that must be present, else review."},
            "exit": {"type": "array", "items": obj({"on": event_types, "if": EXPR, "do": {"$ref": "#/$defs/actions"},
                                                    "outcome": {"type": "string"}}, ["on"])},
            "policy": obj({
                "quiet_hours": obj({"from": {"type": "string", "pattern": "^\\d\\d:\\d\\d$"},
                                    "to": {"type": "string", "pattern": "^\\d\\d:\\d\\d$"}, "timezone": EXPR}, ["from", "to"]),
                "max_messages": obj({"count": {"type": "integer", "minimum": 1}, "per": DURATION,
                                     "instead": {"$ref": "#/$defs/actions"}}, ["count", "per"]),
                "on_invalid": {"$ref": "#/$defs/actions"},
            }),
            "after": {"$ref": "#/$defs/timers"},
            "initial": STATE,
            "states": {"type": "object", "minProperties": 1, "propertyNames": STATE,
                       "additionalProperties": {"$ref": "#/$defs/state"}},
            "migrate": {"type": "object", "propertyNames": STATE, "additionalProperties": STATE},
        },
        "$defs": {"action": action, "actions": actions, "transition": transition, "timer": timer,
                  "timers": timers, "choice": choice, "state": state},
    }

def template_schema():
    return {"$schema": D, "$id": BASE + "template.json", "title": "Hirewire message template",
            "type": "object", "additionalProperties": False, "anyOf": [{"required": ["text"]}, {"required": ["html"]}],
            "properties": {"subject": TEMPLATE, "text": TEMPLATE, "html": s("Rendered with HTML escaping.", **TEMPLATE),
                           "description": {"type": "string"}}}

def source_schema():
    return {"$schema": D, "$id": BASE + "source.json", "title": "Hirewire webhook source",
            "type": "object", "additionalProperties": False, "required": ["source", "events"],
            "properties": {
                "source": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$", "description": "POST /hooks/SOURCE"},
                "description": {"type": "string"},
                "signature": {"type": "object", "required": ["scheme"], "properties": {
                    "scheme": {"enum": ["standard-webhooks", "hmac-sha256", "greenhouse", "lever", "ashby", "workable", "none"]}}},
                "event_id": EXPR,
                "events": {"type": "array", "items": obj({"when": EXPR, "type": EVENT_TYPE, "occurred_at": EXPR, "enrich": {"enum": ["application"]},
                                                          "data": {"type": "object", "additionalProperties": EXPR}}, ["type"])},
            }}

def test_schema():
    at = {"type": "string", "description": "+20h relative to the clock, or an RFC 3339 time."}
    return {"$schema": D, "$id": BASE + "test.json", "title": "Hirewire flow test",
            "type": "object", "additionalProperties": False, "required": ["test", "flow", "clock"],
            "properties": {
                "test": {"type": "string"}, "flow": {"type": "string"}, "description": {"type": "string"},
                "clock": {"type": "string", "format": "date-time", "description": "Where the virtual clock starts."},
                "events": {"type": "array", "items": obj({"at": at, "type": EVENT_TYPE, "data": {"type": "object"}}, ["at", "type"])},
                "expect": {"type": "array", "items": {"type": "object"}},
            }}

def config_schema():
    calendar = obj({"timezone": EXPR,
                    "hours": {"type": "object", "additionalProperties": {"type": "string"},
                              "description": "Days (mon-fri, sat,sun) → ranges (09:00-17:30, several separated by commas)."},
                    "holidays": {"type": "array", "items": {"type": "string", "pattern": "^\\d{4}-\\d\\d-\\d\\d$"}}}, ["hours"])
    return {"$schema": D, "$id": BASE + "config.json", "title": "Hirewire project configuration (hirewire.yaml)",
            "type": "object", "additionalProperties": False,
            "properties": {
                "store": {"oneOf": [obj({"sqlite": {"type": "string"}}, ["sqlite"]), obj({"postgres": {"type": "string"}}, ["postgres"])]},
                "server": obj({"port": {"type": "integer", "minimum": 0, "maximum": 65535},
                               "threads": {"type": "integer", "minimum": 1, "maximum": 256},
                               "idle_timeout": {"type": "string", "pattern": "^[0-9]+[smh]$"},
                               "max_body": {"type": "string", "pattern": "^\\d+(B|KiB|MiB|GiB|KB|kB|MB|GB)?$"},
                               "events_token": {"type": "string"}, "tls": obj({"cert": {"type": "string"}, "key": {"type": "string"}}, ["cert", "key"])}),
                "env": {"type": "array", "items": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}},
                "default_timezone": {"type": "string"},
                "connectors": connectors_schema(),
                "calendars": {"type": "object", "additionalProperties": calendar},
                "outbound": obj({"allow_private_networks": {"type": "boolean"}}),
                "retention": obj({"events": DURATION, "personal_data": DURATION}),
            }}


def connectors_schema():
    """hirewire.yaml `connectors:`: the built-ins' settings, and plugins by any other name."""
    text = {"type": "string"}
    common = {"rate": {"type": "number", "exclusiveMinimum": 0}, "concurrency": {"type": "integer", "minimum": 1}}
    def settings(props):
        return {"type": "object", "properties": {**props, **common}, "additionalProperties": False}
    smtp = {"type": "object", "properties": {"url": text, "from": text, "ca_file": text}, "additionalProperties": False}
    return {
        "type": "object",
        "properties": {
            "email": settings({"smtp": smtp, "from": text}),
            "slack": settings({"webhook_url": text, "alert_channel": text}),
            "teams": settings({"webhook_url": text, "alerts": {"type": "boolean"}}),
            "sms": settings({"url": text, "account": text, "token": text, "from": text}),
            "http": settings({"signing_secret": text}),
            "crm": settings({"url": text, "token": text}),
            "task": settings({"webhook_url": text}),
        },
        "additionalProperties": {
            "type": "object", "required": ["plugin"],
            "properties": {"plugin": text, "timeout": {"type": "string", "pattern": "^[0-9]+[smh]$"}, **common},
        },
    }

def event_schema(t, required):
    data_props = {}
    for ent, fields in ENTITIES.items():
        props = {}
        for f, kind in fields.items():
            base = {"string": {"type": ["string", "null"]}, "number": {"type": ["number", "null"]},
                    "timestamp": {"type": ["string", "null"], "format": "date-time"}}[kind]
            props[f] = dict(base)
        req = sorted(r.split(".")[1] for r in required if r.split(".")[0] == ent)
        e = {"type": "object", "properties": props}
        if req:
            e["required"] = req
            for r in req:
                e["properties"][r] = {k: (v[0] if k == "type" else v) for k, v in e["properties"][r].items()}
        data_props[ent] = e
    data_req = sorted({r.split(".")[0] for r in required})
    return {"$schema": D, "$id": BASE + "events/" + t + ".json", "title": "Canonical event " + t,
            "type": "object", "required": ["id", "type", "occurred_at", "data"],
            "properties": {"id": {"type": "string"}, "type": {"const": t},
                           "occurred_at": {"type": "string", "format": "date-time"}, "source": {"type": "string"},
                           "data": {"type": "object", "required": data_req, "properties": data_props,
                                    "propertyNames": {"enum": sorted(ENTITIES)}}}}

write("flow.json", flow_schema())
write("template.json", template_schema())
write("source.json", source_schema())
write("test.json", test_schema())
write("config.json", config_schema())
for t, req in TYPES.items():
    write(os.path.join("events", t + ".json"), event_schema(t, req))
