"""The capacity report (docs/capacity.md): main.py reads the flags; measure.py measures a real
crowdd at each population, sizing.py derives the sizing numbers, plot.py draws the PNGs,
write.py writes the page. Run it as tools/capacity_report.py or bench/run-capacity-report.sh."""
