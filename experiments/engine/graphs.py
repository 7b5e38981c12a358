"""Writes chain.dl/.pl and random.dl/.pl (transitive closure) into the folder given as argv[1]."""
import random
import sys

def chain():
    return [(i, i + 1) for i in range(999)]

def random_graph():
    rng = random.Random(2024)
    edges = set()
    while len(edges) < 6000:
        a, b = rng.randrange(2000), rng.randrange(2000)
        if a != b:
            edges.add((a, b))
    return sorted(edges)

RULES = "path(X,Y) :- edge(X,Y).\npath(X,Y) :- path(X,Z), edge(Z,Y).\n"
MAIN = (
    'main :- forall(edge(X,Y), format("edge(~w,~w).~n", [X,Y])),\n'
    '        forall(path(X,Y), format("path(~w,~w).~n", [X,Y])).\n'
)

def main(out):
    for name, edges in [("chain", chain()), ("random", random_graph())]:
        facts = "".join(f"edge(n{a},n{b}).\n" for a, b in edges)
        with open(f"{out}/{name}.dl", "w") as f:
            f.write(facts + RULES)
        with open(f"{out}/{name}.pl", "w") as f:
            f.write(":- table path/2.\n" + facts + RULES + MAIN)

if __name__ == "__main__":
    main(sys.argv[1])
