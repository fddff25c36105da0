# plot.gp - the SVG plots of `shmframe bench --plot DIR` (bench/bench_report.c writes the data).
#   gnuplot -e "dir='DIR'; tputs='shm pipe ...'; cdfs='shm-busy pipe ...'" bench/plot.gp
# DIR/tput_<transport>.dat: size_bytes median_MBps min_MBps max_MBps (one-way throughput)
# DIR/cdf_<transport>.dat:  latency_ns quantile (ping-pong round trip at the first size)
# Writes DIR/throughput.svg and DIR/latency.svg. Debian: gnuplot-nox.
if (!exists("dir")) dir = "."
if (!exists("tputs")) tputs = ""
if (!exists("cdfs")) cdfs = ""

set terminal svg size 900,560 dynamic noenhanced font "sans,12" background rgb "white"
set key outside right top
set grid
# One colour each, in the order the transports come (more than 14 cycle); the one-process
# ceilings thin. (Not dashed: gnuplot 5.4's SVG joins the error bars of a dashed line.)
colors = "#1f77b4 #d62728 #2ca02c #ff7f0e #9467bd #8c564b #e377c2 #7f7f7f #bcbd22 #17becf #000000 #aec7e8 #98df8a #ff9896"
ceilings = " memcpy crc32c crc32-peak "
col(i) = word(colors, (i - 1) % words(colors) + 1)
width(t) = strstrt(ceilings, " ".t." ") > 0 ? 1 : 2

if (strlen(tputs) > 0) {
	set output dir."/throughput.svg"
	set title "One-way throughput vs message size (median of the reps; bars: min..max)"
	set xlabel "message size (bytes)"
	set ylabel "payload MB/s"
	set logscale xy 2
	set format x "%.0f"
	plot for [i = 1:words(tputs)] dir."/tput_".word(tputs, i).".dat" using 1:2:3:4 \
		with yerrorlines lw width(word(tputs, i)) lc rgb col(i) title word(tputs, i)
	unset logscale
	unset format
}

if (strlen(cdfs) > 0) {
	set output dir."/latency.svg"
	set title "Ping-pong round trip: distribution (one rep, smallest size)"
	set xlabel "round-trip time (ns)"
	set ylabel "nines: 1 = p90, 2 = p99, 3 = p99.9"
	set logscale x 10
	set format x "%.0f"
	set yrange [0:4]
	plot for [i = 1:words(cdfs)] dir."/cdf_".word(cdfs, i).".dat" \
		using 1:(-log10(1 - $2 + 1e-12)) with lines lw 2 lc rgb col(i) title word(cdfs, i)
}
