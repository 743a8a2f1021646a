# Plot bench-policy's CSV: decision-cycle time and memory against the snapshot's size.
#   gnuplot -e "csv='results/sweep.csv'; out='results/policy-scale.svg'" plot.gp   (or .png)
if (!exists("csv")) csv = 'results/sweep.csv'
if (!exists("out")) out = 'results/policy-scale.svg'
set datafile separator ','
if (out[strlen(out) - 3:] eq '.png') {
	set terminal pngcairo size 1000,420 font 'sans,10'
} else {
	set terminal svg size 1000,420 dynamic font 'sans,11' background '#ffffff'
}
set output out

# the first row anchors the n log n and linear references
stats csv skip 1 every ::0::0 using 3:9 nooutput
x0 = STATS_min_x
t0 = STATS_min_y
stats csv skip 1 using 3 nooutput
x1 = STATS_max
nlogn(x) = t0 * (x * log(x)) / (x0 * log(x0))
lin(x) = t0 * x / x0

set multiplot layout 1,2 title 'pagemig policy engine: one decision cycle on synthetic snapshots (8 nodes, 2 memory-only)'
set logscale xy 2
set grid
set xrange [x0 / 1.2 : x1 * 1.2]
set key bottom right
set xlabel 'snapshot entries (sampled pages x accessing nodes)'
set format x '%.0s%c'

set ylabel 'ms per cycle'
plot csv skip 1 using 3:9 with linespoints lw 2 pt 7 title 'warm cycle (CPU)', \
     csv skip 1 using 3:5 with linespoints lw 2 pt 5 title 'first cycle (CPU)', \
     csv skip 1 using 3:(nlogn($3)) with lines dt 2 lc rgb '#888888' title 'n log n', \
     csv skip 1 using 3:(lin($3)) with lines dt 3 lc rgb '#aaaaaa' title 'n', \
     csv skip 1 using 3:(1000) with lines lc rgb '#cc0000' title 'target 1 s'

set ylabel 'MiB'
plot csv skip 1 using 3:(($13 + $14) / 1048576) with linespoints lw 2 pt 7 title 'engine (history + plan)', \
     csv skip 1 using 3:($15 / 1048576) with linespoints lw 2 pt 5 title 'peak RSS (with the input)', \
     csv skip 1 using 3:($12 / 1048576) with linespoints lw 1 pt 4 title 'input (snapshot + residences)'
unset multiplot
