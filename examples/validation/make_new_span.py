"""Writes a "new span" of the patient data with drift injected, for the validation demo:
cholesterol measured in a new unit (×1.4) and a new sex category for the first 60 patients.
Usage: python make_new_span.py IN.csv OUT.csv"""
import csv
import sys

source, target = sys.argv[1], sys.argv[2]
with open(source, newline="") as file:
    rows = list(csv.DictReader(file))
for index, row in enumerate(rows):
    if row["chol"] not in ("", "NA"):
        row["chol"] = repr(float(row["chol"]) * 1.4)
    if index < 60:
        row["sex"] = "x"
with open(target, "w", newline="") as file:
    writer = csv.DictWriter(file, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
print(f"wrote {len(rows)} rows with drift injected (chol x1.4, 60 patients of a new sex category) to {target}")
