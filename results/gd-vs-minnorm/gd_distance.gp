# gd_distance.gp: written by implreg.  Run it in its directory:
#   gnuplot gd_distance.gp
# to render gd_distance.png (pngcairo, or png when gnuplot has no cairo)
# and gd_distance.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "gd_distance.png"
if (!exists("ir_pdf")) ir_pdf = "gd_distance.pdf"
set encoding utf8
set title "GD from 0: distance to X⁺y, measured and predicted by the SVD"
set xlabel "GD step t (log scale; t = 0 not shown)"
set ylabel "‖w\\_t − X⁺y‖ / ‖X⁺y‖"
set grid
set key bottom left box opaque
set logscale x 10
set format x "10^{%T}"
set xrange [1:5000]
set logscale y 10
set format y "10^{%T}"
set yrange [3.5034761637524242e-15:3.5955839617087944]

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "gd_distance.dat" index 0 using 1:2 with points title "linear: GD iterates", \
     "gd_distance.dat" index 1 using 1:2 with lines title "linear: SVD prediction", \
     "gd_distance.dat" index 2 using 1:2 with points title "fashion: GD iterates", \
     "gd_distance.dat" index 3 using 1:2 with lines title "fashion: SVD prediction"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "gd_distance.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
