# Sourced by the media tests (ksvalidate, iso, pxe, qcow2): where lab3's secrets may be in
# the media they build (issue 16, "Prove it"). The site secret only in the controller's media
# (its kickstart, site.ks, the ISO that carries them, its image); each node's key only in its
# own media and the controller's; deploy.sealed only in the controller's.
# tests/tools/media_secrets.py does the search (every file; hex and raw bytes).
LAB3_NODES=(controller-node network-node compute-node)
LAB3_CONTROLLER=controller-node
MEDIA_PYTHON=${MEDIA_PYTHON:-python3}

# media_keys SITE SECRETS: $WORK/media-keys.json (0600: the site secret and each node's key,
# derived in Python), and $WORK/media-sealed (the controller's deploy.sealed, from `airstrap
# node-config`). Fails unless node-config's node.key of each node is the derived key.
media_keys() {
    local site=$1 secrets=$2 n derived
    (umask 077 && "$MEDIA_PYTHON" "$SRC/tests/tools/media_secrets.py" keys "$secrets" \
        "${LAB3_NODES[@]}" >"$WORK/media-keys.json") || fail "media_secrets.py keys $secrets failed"
    for n in "${LAB3_NODES[@]}"; do
        "$AIRSTRAP" node-config "$site" --secrets "$secrets" --node "$n" \
            --root "$WORK/media-nc/$n" >/dev/null 2>"$WORK/media-nc.err" ||
            fail "airstrap node-config --node $n: $(cat "$WORK/media-nc.err")"
        derived=$("$MEDIA_PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["node_keys"][sys.argv[2]])' \
            "$WORK/media-keys.json" "$n")
        [ "$(cat "$WORK/media-nc/$n/etc/airstrap/node.key")" = "$derived" ] ||
            fail "$n: node-config's node.key is not HKDF-SHA256(site secret, 'airstrap credentials v2', 'node key\\0$n')"
    done
    cp "$WORK/media-nc/$LAB3_CONTROLLER/etc/airstrap/deploy.sealed" "$WORK/media-sealed"
    rm -rf "$WORK/media-nc"
}

# check_media WHAT OWNER=PATH...: no secret outside its owners' media (see media_secrets.py);
# keys from media_keys.
check_media() {
    local what=$1 out
    shift
    [ -s "$WORK/media-keys.json" ] || fail "check_media $what: call media_keys first"
    out=$("$MEDIA_PYTHON" "$SRC/tests/tools/media_secrets.py" check "$WORK/media-keys.json" \
        "$LAB3_CONTROLLER" "$WORK/media-sealed" "$@" 2>&1) || fail "secrets in $what: $out"
    echo "secrets in $what: where they belong: $(tr '\n' ';' <<<"$out")"
}
