#!/usr/bin/env bash
# Writes a tiny EGTEA Gaze+ tree in the real layout: action_annotation/{verb,action}_idx.txt,
# CDB-format split files and H.264 clips cropped_clips/<session>/<clip>.mp4 (16 frames of
# 40x32, one colour per verb plus moving test-pattern noise so clips differ). Train counts
# per verb are 5, 3, 1; val has 1 clip per verb and test 2.
# usage: make_egtea_fixture.sh <output dir>
set -euo pipefail
out="$1"
mkdir -p "$out/action_annotation" "$out/cropped_clips"
printf 'Take 1\nPut 2\nOpen 3\n' > "$out/action_annotation/verb_idx.txt"
printf 'Take bowl 1\nPut bowl 2\nOpen fridge 3\n' > "$out/action_annotation/action_idx.txt"
colours=(0xC83C28 0x28B43C 0x3C50DC)
: > "$out/train_split.txt"
: > "$out/val_split.txt"
: > "$out/test_split.txt"
clip=0
add() {  # add <split> <verb 1..3> <participant>
  local split="$1" verb="$2" who="$3"
  local session="$who-R0$verb-Recipe$verb"
  local start=$((clip * 1000))
  local name="$session-$start-$((start + 667))-F$(printf '%06d' $((clip * 24)))-F$(printf '%06d' $((clip * 24 + 16)))"
  mkdir -p "$out/cropped_clips/$session"
  ffmpeg -loglevel error -y \
    -f lavfi -i "color=c=${colours[$((verb - 1))]}:s=40x32:r=24" \
    -f lavfi -i "testsrc=s=40x32:r=24" \
    -filter_complex "[1:v]crop=40:32:$((clip % 7)):0,format=rgb24[n];[0:v][n]blend=all_mode=overlay:all_opacity=0.25" \
    -frames:v 16 -c:v libx264 -pix_fmt yuv420p -g 8 "$out/cropped_clips/$session/$name.mp4"
  echo "$name $verb $verb $verb" >> "$out/${split}_split.txt"
  clip=$((clip + 1))
}
for i in 1 2 3 4 5; do add train 1 P0$i; done
for i in 1 2 3; do add train 2 P0$i; done
add train 3 P01
for v in 1 2 3; do add val "$v" P20; done
for v in 1 2 3; do add test "$v" P03; add test "$v" P04; done
