"""How many trainings should share one GPU (nrun's --slots-per-gpu) when
the time is short.

    plan_slots.py SECONDS RATES TO_GO [CARRIED]

RATES: `k:rate,...`, the outer steps per second k trainings at once made in
total, as measured (`train_step --parallel k`). TO_GO: the outer steps each
unfinished training has still to run, comma-separated. CARRIED: how many
unfinished trainings' checkpoints go on after SECONDS (those furthest
along; default all, as when later commands on the same machine resume
them): what an export can carry, one or two, when the machine goes back.

Running more trainings at once makes more steps per second in total, but
each finishes later, and of a stopped training only its checkpoint goes
on, three times a finished training's size. So this simulates nrun's
dispatcher for each measured k (the trainings with the fewest steps to go
start first; each running training makes rate(m) / m steps per second
while m run, rate interpolated between the measured points) and picks the
k that finishes the most trainings within SECONDS, then keeps the most
steps (those of finished trainings and of the CARRIED unfinished ones
furthest along), then ends earliest, then is smallest. It prints the k,
then one line per candidate.
"""

import sys


def total_rate(rates, m):
    """Steps per second in total with m trainings at once."""
    points = sorted([(0, 0.0)] + list(rates.items()))
    if m >= points[-1][0]:
        return points[-1][1]
    for (k0, r0), (k1, r1) in zip(points, points[1:]):
        if k0 <= m <= k1:
            return r0 + (r1 - r0) * (m - k0) / (k1 - k0)
    raise AssertionError("unreachable")


def simulate(rates, slots, to_go, seconds, carried):
    """(trainings finished, steps kept, when the last one finished) with
    `slots` at once."""
    waiting = sorted(to_go)
    running = []  # [steps to go, steps made]
    finished, kept, now, last = 0, 0.0, 0.0, 0.0
    while now < seconds and (waiting or running):
        while waiting and len(running) < slots:
            running.append([float(waiting.pop(0)), 0.0])
        each = total_rate(rates, len(running)) / len(running)
        if each <= 0:
            break
        dt = min(min(left for left, _ in running) / each, seconds - now)
        now += dt
        for r in running:
            r[0] -= each * dt
            r[1] += each * dt
        done = [r for r in running if r[0] <= 1e-6]
        if done:
            finished, last = finished + len(done), now
            kept += sum(made for _, made in done)
        running = [r for r in running if r[0] > 1e-6]
    furthest = sorted((made for _, made in running), reverse=True)
    kept += sum(furthest[:carried])
    return finished, kept, last


def main():
    seconds = float(sys.argv[1])
    rates = {int(k): float(r) for k, r in (p.split(":") for p in sys.argv[2].split(","))}
    to_go = [int(s) for s in sys.argv[3].split(",") if s]
    carried = int(sys.argv[4]) if len(sys.argv) > 4 else len(to_go)
    outcomes = {k: simulate(rates, k, to_go, seconds, carried) for k in sorted(rates)}
    best = max(outcomes, key=lambda k: (outcomes[k][0], round(outcomes[k][1]), -outcomes[k][2], -k))
    print(best)
    for k, (finished, kept, last) in outcomes.items():
        print(f"{k} at once ({rates[k]:.1f} steps/s in total): {finished} of {len(to_go)} "
              f"trainings finished (the last at {last:.0f} s), {kept:.0f} of {sum(to_go)} "
              f"steps kept in {seconds:.0f} s")


if __name__ == "__main__":
    main()
