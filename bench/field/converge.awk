# converge.awk: one convergence workload's lab output -> a Markdown table, plot data, key lines.
#
#   awk -v W=static -v OUT=DIR -v HOST=lab-static.host -f converge.awk lab-static.host lab-static.log
#
# The .host file (bench/field/run.sh's sampler: t vcpu0 vcpu1 console_lines load) comes first;
# then the console log with the FIELD-* lines of bench/field/field_lab.c. Writes
#   DIR/converge-W.dat     t, then per mover the median over repetitions of the plotted share (%)
#   DIR/converge-W.movers  the movers, in column order
#   DIR/converge-W.md      the table
#   DIR/converge-W.keys    "KEY w m name value" lines for the headline
# mawk-compatible (no asort, no gensub).

function isort(a, n,    i, j, v) {
	for (i = 2; i <= n; i++) {
		v = a[i]
		for (j = i - 1; j >= 1 && a[j] > v; j--)
			a[j + 1] = a[j]
		a[j + 1] = v
	}
}
# median, min, max of a space-separated list (values "inf" allowed); sets Q_MIN, Q_MAX, Q_N
function med(list,    a, n, i) {
	n = split(list, a, " ")
	Q_N = n
	if (n == 0) { Q_MIN = Q_MAX = ""; return "" }
	for (i = 1; i <= n; i++)
		a[i] = (a[i] == "inf") ? 1e300 : a[i] + 0
	isort(a, n)
	Q_MIN = a[1]; Q_MAX = a[n]
	if (n % 2) return a[(n + 1) / 2]
	if (a[n / 2 + 1] >= 1e300) return a[n / 2 + 1]
	return (a[n / 2] + a[n / 2 + 1]) / 2
}
function fmt(v, f) {
	if (v == "") return "–"
	if (v >= 1e300) return "never"
	return sprintf(f, v)
}
# "median [min–max]" with format f
function mm(list, f,    m) {
	m = med(list)
	if (m == "") return "–"
	if (Q_N == 1 || Q_MIN == Q_MAX) return fmt(m, f)
	return fmt(m, f) " [" fmt(Q_MIN, f) "–" fmt(Q_MAX, f) "]"
}
function kv(line, key,    i, n, f, p) {
	n = split(line, f, " ")
	for (i = 1; i <= n; i++) {
		p = index(f[i], "=")
		if (p && substr(f[i], 1, p - 1) == key)
			return substr(f[i], p + 1)
	}
	return ""
}
function add(arr, k, v) { arr[k] = (k in arr) ? arr[k] " " v : v }
# vCPU 1 host ticks at console line L (first sample that had seen it)
function vcpu1_at(L,    i) {
	for (i = 1; i <= NS; i++)
		if (S_lines[i] >= L)
			return S_v1[i]
	return ""
}
function sample_at(L,    i) {
	for (i = 1; i <= NS; i++)
		if (S_lines[i] >= L)
			return i
	return 0
}


BEGIN { if (PHASE == "") PHASE = 20 }
FILENAME == HOST {
	NS++
	S_t[NS] = $1; S_v0[NS] = $2; S_v1[NS] = $3; S_lines[NS] = $4; S_load[NS] = $5
	next
}
{
	sub(/\r$/, "")
	p = index($0, "FIELD-")
	if (!p) next
	line = substr($0, p)
}
line ~ /^FIELD-ENV kernel=/ { KERNEL = kv(line, "kernel"); TIERS = kv(line, "memory_tiers") }
line ~ /^FIELD-RUN / {
	m = kv(line, "m"); r = kv(line, "r")
	CONF_SECS = kv(line, "seconds") + 0
	if (!(m in seen_m)) { seen_m[m] = 1; movers[++NM] = m }
	if (r + 0 > NR_REPS) NR_REPS = r + 0
	first_ts = 0
	cum = 0
	prev_si = 0; NP = 0; NV = 0; SLOC = 0; NLOC = 0
	last_sec = -1; last_v = ""
	next
}
line ~ /^FIELD-TS / {
	m = kv(line, "m"); r = kv(line, "r"); t = kv(line, "t") + 0
	sec = int(t + 0.5)
	if (!first_ts) { first_ts = FNR; first_passes = kv(line, "passes") + 0 }
	last_ts = FNR; last_passes = kv(line, "passes") + 0
	# progress per host-CPU second of the vCPU(s) the writers ran on since the last probe
	si = sample_at(FNR)
	if (prev_si && si) {
		nd = kv(line, "node") + 0
		dv = (nd == 0) ? S_v0[si] - S_v0[prev_si] : (nd == 1) ? S_v1[si] - S_v1[prev_si] : S_v0[si] - S_v0[prev_si] + S_v1[si] - S_v1[prev_si]
		NP += last_passes - prev_passes
		NV += dv
	}
	prev_si = si; prev_passes = last_passes
	split(kv(line, "hot"), h, ",")
	nh = h[1] + h[2] + h[3]
	if (W == "shared") {
		# cumulative node changes per hot page seen by the probe
		cum += kv(line, "changed")
		v = nh ? 100 * cum / nh : 0
	} else {
		v = 100 * kv(line, "local")
		if (kv(line, "local") + 0 < 0) v = ""
	}
	# phase workload: time to 90% local after each phase start (phases of PHASE seconds)
	if (W == "phase" && kv(line, "local") + 0 >= 0.9) {
		k = int(t / PHASE) + 1
		# not the phase's first probe: the thread may not have switched yet when it ran
		if (!((m, r, k) in PDONE) && t >= (k - 1) * PHASE + 0.5) {
			PDONE[m, r, k] = 1
			add(PH, m SUBSEP k, t - (k - 1) * PHASE)
		}
	}
	if (W != "shared" && v != "") { SLOC += v; NLOC++ }
	if (v != "" && !((m, r, sec) in got)) {
		# a probe that came late (busy guest): carry the last value over the seconds it missed
		for (s = last_sec + 1; s < sec && last_v != ""; s++) {
			got[m, r, s] = 1
			add(TS, m SUBSEP s, last_v)
		}
		got[m, r, sec] = 1
		add(TS, m SUBSEP sec, v)
		if (sec > MAXSEC) MAXSEC = sec
		last_sec = sec; last_v = v
	}
	next
}
line ~ /^FIELD-SUM / {
	m = kv(line, "m"); r = kv(line, "r")
	if (kv(line, "error") != "") { ERR[m] = ERR[m] " " kv(line, "error"); next }
	runs[m]++
	secs = kv(line, "seconds") + 0
	needed = kv(line, "needed") + 0
	hp = kv(line, "hot_pages") + 0
	cp = kv(line, "cold_pages") + 0
	t90 = kv(line, "t90") + 0; t100 = kv(line, "t100") + 0
	add(T90, m, t90 < 0 ? "inf" : t90)
	add(T100, m, t100 < 0 ? "inf" : t100)
	t99 = kv(line, "t99") + 0
	add(T99, m, t99 < 0 ? "inf" : t99)
	if (t99 >= 0) R99[m]++
	if (t90 >= 0) R90[m]++
	if (t100 >= 0) R100[m]++
	add(LEND, m, 100 * kv(line, "local_end"))
	if (NLOC) add(LMEAN, m, SLOC / NLOC)
	add(LEFT, m, (1 - kv(line, "local_end")) * hp)
	if (W == "shared")
		add(MPP, m, hp ? kv(line, "changes_hot") / hp : 0) # per hot page: none needed a move
	else
		add(MPP, m, needed ? kv(line, "changes_hot") / needed : 0)
	add(MPPK, m, needed ? kv(line, "vm_migrated") / needed : 0)
	add(MOVED, m, kv(line, "pages_moved") + 0)
	add(MOVEDPCT, m, hp ? 100 * kv(line, "pages_moved") / hp : 0)
	add(REP, m, kv(line, "pages_repeated") + 0)
	add(LATE, m, kv(line, "late_changes") + 0)
	add(COLD, m, kv(line, "cold_moved") + 0)
	add(MCPU, m, kv(line, "mover_cpu_s") < 0 ? 0 : 100 * kv(line, "mover_cpu_s") / secs)
	add(MRSS, m, kv(line, "mover_rss_kib") < 0 ? "" : kv(line, "mover_rss_kib") / 1024)
	add(WSYS, m, kv(line, "wl_sys_s") + 0)
	add(HINT, m, kv(line, "vm_hint_faults") + 0)
	add(PROMO, m, kv(line, "vm_promoted") + 0)
	add(START, m, kv(line, "mover_start_s") + 0)
	if (kv(line, "daemon_last_cycle_ms") + 0 > 0) add(CYC, m, kv(line, "daemon_last_cycle_ms") + 0)
	if (kv(line, "data") != "ok") BAD[m]++
	PASSES[m, r] = kv(line, "passes") + 0
	# the writers' share of the run spent in user mode (the workload's own work), in the
	# guest's accounting: what the host's other load does to the emulator's speed scales user
	# and system time alike, so this fraction holds where passes per second do not
	nthr = (W == "shared") ? 2 : 1
	USER[m, r] = (kv(line, "wl_cpu_s") - kv(line, "wl_sys_s")) / (secs * nthr)
	add(USERP, m, 100 * USER[m, r])
	if (W == "phase")
		for (k = 1; k <= int(CONF_SECS / PHASE); k++) {
			if (!((m, r, k) in PDONE)) add(PH, m SUBSEP k, "inf")
			if (k > NPH) NPH = k
		}
	# passes per host-CPU second of the writers' vCPU(s), summed over the probe intervals
	if (NV > 0) {
		NORM[m, r] = NP / (NV / 100)
		V1SHARE[m, r] = NV / 100 / secs
	}
	i = sample_at(first_ts); j = sample_at(last_ts)
	if (i && j) {
		l = 0
		for (k = i; k <= j; k++) l += S_load[k]
		add(LOAD, m, l / (j - i + 1))
	}
	HP = hp; CP = cp; SECS = secs
	next
}

END {
	if (!NM) { print "no runs in the log" > (OUT "/converge-" W ".md"); exit }
	# work relative to "none" in the same repetition
	for (i = 1; i <= NM; i++) {
		m = movers[i]
		for (r = 1; r <= NR_REPS; r++) {
			if (((m, r) in PASSES) && (("none", r) in PASSES) && PASSES["none", r] > 0)
				add(WR, m, PASSES[m, r] / PASSES["none", r])
			if (((m, r) in USER) && (("none", r) in USER) && USER["none", r] > 0)
				add(WU, m, USER[m, r] / USER["none", r])
			if (((m, r) in NORM) && (("none", r) in NORM) && NORM["none", r] > 0)
				add(WN, m, NORM[m, r] / NORM["none", r])
			if ((m, r) in V1SHARE) add(V1, m, 100 * V1SHARE[m, r])

		}
	}
	# plot data
	dat = OUT "/converge-" W ".dat"
	printf "t" > dat
	for (i = 1; i <= NM; i++) printf " %s", movers[i] > dat
	printf "\n" > dat
	for (s = 0; s <= MAXSEC; s++) {
		printf "%d", s > dat
		for (i = 1; i <= NM; i++) {
			k = movers[i] SUBSEP s
			printf " %s", (k in TS) ? sprintf("%.2f", med(TS[k])) : "NaN" > dat
		}
		printf "\n" > dat
	}
	mv = OUT "/converge-" W ".movers"
	for (i = 1; i <= NM; i++) print movers[i] > mv

	md = OUT "/converge-" W ".md"
	keys = OUT "/converge-" W ".keys"
	printf "Guest kernel %s; hot set %d pages (%d MiB), cold set %d pages; %d s per run; %d repetitions (mover order rotated); memory tiers %s.\n\n", KERNEL, HP, HP / 256, CP, CONF_SECS, NR_REPS, TIERS > md
	if (W == "phase") {
		print "| mover | runs | mean local share | migrations per page needed (probe / kernel) | pages moved 2+ times | cold pages moved | mover CPU (guest, % of one) | workload sys s | writers in user mode | progress vs none: user-mode CPU / passes (wall) | data |" > md
		print "|---|---|---|---|---|---|---|---|---|---|---|" > md
	} else if (W == "shared") {
		print "| mover | runs | hot pages moved at all | moved 2+ times | node changes per page | changes in the last third | cold moved | mover CPU (guest) | workload sys s | writers in user mode | progress vs none: user-mode CPU / passes (wall) | data |" > md
		print "|---|---|---|---|---|---|---|---|---|---|---|---|" > md
	} else {
		print "| mover | runs | 90% local (s) | 99% local (s) | 100% local (s) | mean local share | local at end | migrations per page needed (probe / kernel) | pages moved 2+ times | cold pages moved | mover CPU (guest, % of one) | workload sys s | writers in user mode | progress vs none: user-mode CPU / passes (wall) | data |" > md
		print "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|" > md
	}
	for (i = 1; i <= NM; i++) {
		m = movers[i]
		if (!(m in runs)) { printf "| %s | 0 | error:%s |\n", m, ERR[m] > md; continue }
		data = (m in BAD) ? BAD[m] " BAD" : "ok"
		mcpu = (m ~ /^nb/ || m == "none") ? "— (in the workload)" : mm(MCPU[m], "%.1f%%")
		if (m == "none") mcpu = "—"
		if (W == "phase") {
			printf "| %s | %d | %s | %s / %s | %s | %s | %s | %s | %s | %s | %s |\n", m, runs[m], mm(LMEAN[m], "%.1f%%"), mm(MPP[m], "%.2f"), mm(MPPK[m], "%.2f"), mm(REP[m], "%.0f"), mm(COLD[m], "%.0f"), mcpu, mm(WSYS[m], "%.1f"), mm(USERP[m], "%.1f%%"), mm(WU[m], "%.3f") " / " mm(WR[m], "%.2f"), data > md
		} else if (W == "shared") {
			printf "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", m, runs[m], mm(MOVEDPCT[m], "%.1f%%"), mm(REP[m], "%.0f"), mm(MPP[m], "%.2f"), mm(LATE[m], "%.0f"), mm(COLD[m], "%.0f"), mcpu, mm(WSYS[m], "%.1f"), mm(USERP[m], "%.1f%%"), mm(WU[m], "%.3f") " / " mm(WR[m], "%.2f"), data > md
		} else {
			r90 = (R90[m] + 0 < runs[m]) ? sprintf(" (%d of %d)", R90[m], runs[m]) : ""
			r99 = (R99[m] + 0 < runs[m]) ? sprintf(" (%d of %d)", R99[m], runs[m]) : ""
			r100 = (R100[m] + 0 < runs[m]) ? sprintf(" (%d of %d)", R100[m], runs[m]) : ""
			printf "| %s | %d | %s%s | %s%s | %s%s | %s | %s | %s / %s | %s | %s | %s | %s | %s | %s | %s |\n", m, runs[m], mm(T90[m], "%.0f"), r90, mm(T99[m], "%.0f"), r99, mm(T100[m], "%.0f"), r100, mm(LMEAN[m], "%.1f%%"), mm(LEND[m], "%.1f%%"), mm(MPP[m], "%.2f"), mm(MPPK[m], "%.2f"), mm(REP[m], "%.0f"), mm(COLD[m], "%.0f"), mcpu, mm(WSYS[m], "%.1f"), mm(USERP[m], "%.1f%%"), mm(WU[m], "%.3f") " / " mm(WR[m], "%.2f"), data > md
		}
		printf "KEY %s %s t90 %s\n", W, m, med(T90[m]) > keys
		printf "KEY %s %s t100 %s\n", W, m, med(T100[m]) > keys
		printf "KEY %s %s t99 %s\n", W, m, med(T99[m]) > keys
		printf "KEY %s %s reached100 %d/%d\n", W, m, R100[m], runs[m] > keys
		printf "KEY %s %s local_end %s\n", W, m, med(LEND[m]) > keys
		printf "KEY %s %s local_mean %s\n", W, m, med(LMEAN[m]) > keys
		printf "KEY %s %s mpp %s\n", W, m, med(MPP[m]) > keys
		printf "KEY %s %s mppk %s\n", W, m, med(MPPK[m]) > keys
		printf "KEY %s %s repeated %s\n", W, m, med(REP[m]) > keys
		printf "KEY %s %s cold %s\n", W, m, med(COLD[m]) > keys
		printf "KEY %s %s work_wall %s\n", W, m, med(WR[m]) > keys
		printf "KEY %s %s work_norm %s\n", W, m, med(WN[m]) > keys
		printf "KEY %s %s work_user %s\n", W, m, med(WU[m]) > keys
		printf "KEY %s %s mover_cpu %s\n", W, m, med(MCPU[m]) > keys
		printf "KEY %s %s moved_pct %s\n", W, m, med(MOVEDPCT[m]) > keys
	}
	print "" > md
	# the second table: what else was measured
	print "| mover | mover start (s) | mover RSS MiB | hinting faults | pages promoted (kernel) | daemon cycle ms (last) | writers' vCPU: host CPU share | host load (1-min avg) |" > md
	print "|---|---|---|---|---|---|---|---|" > md
	for (i = 1; i <= NM; i++) {
		m = movers[i]
		if (!(m in runs)) continue
		printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", m, mm(START[m], "%.1f"), (MRSS[m] ~ /[0-9]/) ? mm(MRSS[m], "%.0f") : "–", mm(HINT[m], "%.0f"), mm(PROMO[m], "%.0f"), (CYC[m] ~ /[0-9]/) ? mm(CYC[m], "%.0f") : "–", mm(V1[m], "%.0f%%"), mm(LOAD[m], "%.1f") > md
	}
	if (NPH && W == "phase") {
		print "" > md
		printf "Seconds to 90%% local after each phase start (the workload puts its thread on cpu 1 in odd phases, on cpu 0, where the memory started, in even ones; the first probe of a phase is skipped, so 1 means it was local at once):\n\n" > md
		printf "| mover |" > md
		for (k = 1; k <= NPH; k++) printf " phase %d |", k > md
		printf "\n|---|" > md
		for (k = 1; k <= NPH; k++) printf "---|" > md
		printf "\n" > md
		for (i = 1; i <= NM; i++) {
			m = movers[i]
			printf "| %s |", m > md
			for (k = 1; k <= NPH; k++) printf " %s |", ((m SUBSEP k) in PH) ? mm(PH[m SUBSEP k], "%.0f") : "–" > md
			printf "\n" > md
			for (k = 1; k <= NPH; k++)
				if ((m SUBSEP k) in PH) printf "KEY %s %s phase%d %s\n", W, m, k, med(PH[m SUBSEP k]) > keys
		}
	}
}
