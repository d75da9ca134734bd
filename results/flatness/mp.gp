# mp.gp: written by implreg.  Run it in its directory:
#   gnuplot mp.gp
# to render mp.png (pngcairo, or png when gnuplot has no cairo)
# and mp.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "mp.png"
if (!exists("ir_pdf")) ir_pdf = "mp.pdf"
set encoding utf8
set title "X'X/n (n = 400, p = 200) against Marchenko–Pastur"
set xlabel "eigenvalue"
set ylabel "density"
set grid
set key outside right top vertical box opaque
set format x "%g"
set format y "%g"

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "mp.dat" index 0 using 1:2 with histeps title "dense spectrum (histogram)", \
     "mp.dat" index 1 using 1:($2-$3):($2+$3) with filledcurves fillstyle transparent solid 0.25 noborder linecolor 2 notitle, \
     "mp.dat" index 1 using 1:2 with lines linecolor 2 title "SLQ density", \
     "mp.dat" index 2 using 1:2 with lines dashtype 2 title "Marchenko–Pastur"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "mp.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
