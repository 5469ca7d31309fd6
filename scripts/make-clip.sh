#!/usr/bin/env bash
# Generates the embedded default clip: a static detailed background (one Mandelbrot
# frame) with moving content (a test card drifting on a sinusoid, a Game-of-Life
# panel), 1280x720, 30 fps, 20 s. Deterministic: lavfi sources have no randomness
# except `life`, which is seeded below.
set -euo pipefail
out=${1:-clips/default-720p30.mp4}
mkdir -p "$(dirname "$out")"
if [ -s "$out" ]; then exit 0; fi
tmp="$out.tmp.mp4"
ffmpeg -v error -y \
  -f lavfi -i "mandelbrot=s=1280x720:r=30:start_scale=0.8:end_scale=0.8:maxiter=200,format=yuv420p" \
  -f lavfi -i "testsrc2=s=360x240:r=30" \
  -f lavfi -i "life=s=320x180:r=30:mold=10:ratio=0.1:seed=7:death_color=#101030:life_color=#30c060" \
  -filter_complex "[0]trim=end_frame=1,loop=loop=-1:size=1,setpts=N/30/TB[bg];[bg][1]overlay=x='460+360*sin(t*0.9)':y='80+60*cos(t*0.7)'[a];[a][2]overlay=x='W-w-40':y='H-h-40',format=yuv420p" \
  -t 20 -r 30 -c:v libx264 -preset fast -crf 16 -g 60 -pix_fmt yuv420p -movflags +faststart "$tmp"
mv "$tmp" "$out"
