"""Engine benchmarks: interpreter steps/s and trigger-matching latency (index vs naive).

Run ``.venv/bin/python bench/engine.py`` (``--quick`` for a short run). Prints two tables:

a) steps/s of the in-process interpreter on a 6-node workflow (trigger -> condition ->
   send_message -> add_tag -> update_user -> add_note) with InMemoryEffects, median of rounds;
b) latency of matching one typical message against 100 / 1,000 / 10,000 active workflows
   (keyword any-groups in English and Persian, some with tag conditions, some without
   keywords, some for other event types), TriggerIndex next to naive_match in the same run.

The text-folding cache is cleared before every timed match, so each match pays for
normalising "a new message" as it would in production.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graph_engine.conditions import fold_text  # noqa: E402
from graph_engine.matching import TriggerIndex, TriggerSpec, naive_match  # noqa: E402

WORKFLOW = {
    "format": "workflow-graph/v1",
    "name": "Coupon request",
    "nodes": [
        {
            "id": "trigger",
            "type": "trigger.message_received",
            "params": {
                "filter": {
                    "any": [
                        {"field": "event.data.content", "op": "icontains", "value": "coupon"},
                        {"field": "event.data.content", "op": "icontains", "value": "کد تخفیف"},
                    ]
                }
            },
        },
        {
            "id": "interested",
            "type": "logic.condition",
            "params": {
                "rules": {"all": [{"field": "user.tags", "op": "contains", "value": "interested"}]}
            },
        },
        {
            "id": "send",
            "type": "action.send_message",
            "params": {"text": "{{ user.first_name }}, your code: SAVE10"},
        },
        {"id": "tag", "type": "action.add_tag", "params": {"tag": "coupon_sent"}},
        {
            "id": "update",
            "type": "action.update_user",
            "params": {"changes": {"fields.last_coupon": "SAVE10"}},
        },
        {"id": "note", "type": "action.add_note", "params": {"text": "coupon sent"}},
    ],
    "edges": [
        {"id": "e1", "source": "trigger", "target": "interested"},
        {"id": "e2", "source": "interested", "source_port": "true", "target": "send"},
        {"id": "e3", "source": "send", "target": "tag"},
        {"id": "e4", "source": "tag", "target": "update"},
        {"id": "e5", "source": "update", "target": "note"},
    ],
}

MESSAGE = "Hi! do you have a coupon or کد تخفیف for the new running shoes? ممنون"
EN = [
    "coupon",
    "discount",
    "sale",
    "offer",
    "price",
    "order",
    "refund",
    "shipping",
    "delivery",
    "cancel",
    "subscribe",
    "unsubscribe",
    "support",
    "help",
    "account",
    "password",
    "invoice",
    "payment",
    "card",
    "return",
    "size",
    "color",
    "shoes",
    "jacket",
    "gift",
    "voucher",
    "promo",
    "code",
    "deal",
    "black",
    "friday",
    "newsletter",
]
FA = [
    "کد تخفیف",
    "تخفیف",
    "قیمت",
    "سفارش",
    "ارسال",
    "پیگیری",
    "لغو",
    "پشتیبانی",
    "کمک",
    "حساب",
    "رمز",
    "فاکتور",
    "پرداخت",
    "کارت",
    "مرجوعی",
    "سایز",
    "رنگ",
    "کفش",
    "کاپشن",
    "هدیه",
    "حراج",
    "جشنواره",
    "اشتراک",
    "ثبت نام",
    "موجودی",
]


def _context(content: str, tags: list[str]) -> dict:
    return {
        "event": {
            "id": "e1",
            "type": "MESSAGE_RECEIVED",
            "data": {"content": content},
            "user_id": "c1",
            "conversation_id": "conv1",
            "timestamp": "2026-01-01T10:00:00Z",
        },
        "user": {
            "external_id": "c1",
            "first_name": "Sara",
            "last_name": "",
            "email": "s@x.io",
            "phone": "",
            "channel": "telegram",
            "tags": tags,
            "fields": {},
        },
        "conversation": {"external_id": "conv1", "status": "open"},
    }


def bench_interpreter(runs: int, rounds: int) -> dict:
    from graph_engine import InMemoryEffects, Interpreter

    effects = InMemoryEffects()
    engine = Interpreter(WORKFLOW, effects=effects, workflow_id="w1")
    rates, steps = [], 0
    for _ in range(rounds + 1):  # the first round warms up
        start, steps = time.perf_counter_ns(), 0
        for i in range(runs):
            state = engine.run(
                engine.start("trigger", _context(MESSAGE, ["interested"]), execution_id=f"x{i}")
            )
            steps += state.steps
            effects.log.clear()
            effects.sent_keys.clear()
        rates.append(steps / ((time.perf_counter_ns() - start) / 1e9))
    assert state.status == "succeeded" and state.steps == 6, (state.status, state.steps)
    return {"steps_per_s": statistics.median(rates[1:]), "steps_per_run": state.steps}


def _vocabulary(rng: random.Random) -> list[str]:
    words = EN + FA
    words += [f"{rng.choice(EN)}{n}" for n in range(1500)]  # product / campaign codes
    words += [f"{rng.choice(FA)} {n}" for n in range(500)]
    return words


def make_specs(n: int, seed: int = 7) -> list[TriggerSpec]:
    """n workflows: 75 % keyword triggers (30 % of them also need a tag), 5 % message
    triggers without keywords, 20 % other event types."""
    rng = random.Random(seed)
    vocab = _vocabulary(rng)
    specs = []
    for i in range(n):
        kind = rng.random()
        if kind < 0.20:
            etype = rng.choice(["USER_CREATED", "TAG_ADDED", "CONVERSATION_STATUS_CHANGED"])
            specs.append(TriggerSpec(f"w{i}", "t", etype, None))
            continue
        if kind < 0.25:
            rules = {
                "all": [
                    {"field": "user.tags", "op": "contains", "value": rng.choice(vocab)},
                    {"field": "user.channel", "op": "equals", "value": "telegram"},
                ]
            }
        else:
            words = rng.sample(vocab, rng.randint(1, 3))
            rules = {
                "any": [
                    {"field": "event.data.content", "op": "icontains", "value": w} for w in words
                ]
            }
            if rng.random() < 0.3:
                rules = {
                    "all": [{"field": "user.tags", "op": "contains", "value": "interested"}, rules]
                }
        specs.append(TriggerSpec(f"w{i}", "t", "MESSAGE_RECEIVED", rules, rng.randint(0, 2)))
    return specs


def _latencies(fn, context: dict, iterations: int) -> list[int]:
    for _ in range(min(20, iterations)):
        fn(context)
    samples = []
    for _ in range(iterations):
        fold_text.cache_clear()
        start = time.perf_counter_ns()
        fn(context)
        samples.append(time.perf_counter_ns() - start)
    return samples


def _pct(samples: list[int], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000  # µs


def bench_matching(sizes, iterations: int, naive_iterations: int) -> list[dict]:
    rows = []
    context = _context(MESSAGE, ["interested"])
    for n in sizes:
        specs = make_specs(n)
        start = time.perf_counter()
        index = TriggerIndex(specs)
        build_ms = (time.perf_counter() - start) * 1000
        matched = index.match(context)
        assert matched == naive_match(specs, context)
        fast = _latencies(index.match, context, iterations)
        slow = _latencies(
            lambda c, s=specs: naive_match(s, c), context, max(5, naive_iterations * 1000 // n)
        )
        rows.append(
            {
                "workflows": n,
                "matched": len(matched),
                "build_ms": build_ms,
                "index_p50": _pct(fast, 0.5),
                "index_p99": _pct(fast, 0.99),
                "naive_p50": _pct(slow, 0.5),
                "naive_p99": _pct(slow, 0.99),
            }
        )
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run")
    args = parser.parse_args(argv)
    runs, rounds, iters, naive = (300, 3, 300, 20) if args.quick else (2000, 7, 3000, 200)

    result = bench_interpreter(runs, rounds)
    print("(a) interpreter, 6-node workflow, in-process, InMemoryEffects")
    print(f"    {'steps/s (median of rounds)':32} {result['steps_per_s']:>12,.0f}")
    print(f"    {'runs/s':32} {result['steps_per_s'] / result['steps_per_run']:>12,.0f}")
    print("    target: >= 20,000 steps/s\n")

    print("(b) trigger matching, one message, latency in µs (median of samples)")
    header = (
        f"    {'workflows':>9} {'matched':>7} {'build ms':>9} {'index p50':>10} "
        f"{'index p99':>10} {'naive p50':>10} {'naive p99':>10} {'speed-up':>9}"
    )
    print(header)
    for row in bench_matching([100, 1_000, 10_000], iters, naive):
        speedup = row["naive_p50"] / row["index_p50"]
        print(
            f"    {row['workflows']:>9,} {row['matched']:>7} {row['build_ms']:>9.1f} "
            f"{row['index_p50']:>10.1f} {row['index_p99']:>10.1f} {row['naive_p50']:>10.1f} "
            f"{row['naive_p99']:>10.1f} {speedup:>8.1f}x"
        )
    print("    target at 10,000: index >= 20x faster than naive, p99 < 1,000 µs")


if __name__ == "__main__":
    main()
