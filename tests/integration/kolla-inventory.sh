#!/usr/bin/env bash
# airstrap inventory --format kolla on the example site, read back by Ansible's own
# ansible-inventory (Debian's ansible-core): groups resolve to the site's nodes through
# kolla's hierarchy; globals.yml says what site.yaml says; bad usage and unwritable output.
source "$(dirname "$0")/common.sh"

site="$SRC/examples/lab3/site.yaml"
out="$WORK/kolla"

# Bad usage: exit 2, nothing written.
expect_exit 2 "$AIRSTRAP" inventory "$site" --format packstack -o "$out"
grep -q "expected: kolla" <<<"$OUT" || fail "bad --format: $OUT"
expect_exit 2 "$AIRSTRAP" inventory "$site" -o "$out"
[ ! -e "$out" ] || fail "bad usage wrote output"
expect_exit 0 "$AIRSTRAP" inventory --help
grep -q "Exit codes" <<<"$OUT" || fail "inventory --help lacks exit codes"

# Unwritable output (below a regular file): exit 1, nothing half-written.
touch "$WORK/plain-file"
expect_exit 1 "$AIRSTRAP" inventory "$site" --format kolla -o "$WORK/plain-file/kolla"
grep -q "plain-file/kolla" <<<"$OUT" || fail "the output folder is not named: $OUT"

# The real thing: DIR made, both files 0644, the same bytes on a second run.
expect_exit 0 "$AIRSTRAP" inventory "$site" --format kolla -o "$out"
grep -q "kolla-genpwd" <<<"$OUT" || fail "the operator's part is not mentioned: $OUT"
for f in multinode globals.yml; do
    [ -f "$out/$f" ] || fail "no $f"
    [ "$(stat -c %a "$out/$f")" = 644 ] || fail "$f is not mode 0644"
done
[ "$(ls -A "$out" | wc -l)" -eq 2 ] || fail "stray files in the output: $(ls -A "$out")"
sha256sum "$out"/* >"$WORK/first.sum"
expect_exit 0 "$AIRSTRAP" inventory "$site" --format kolla -o "$out"
sha256sum -c --quiet "$WORK/first.sum" || fail "a second run wrote different bytes"

# A folder where globals.yml goes: exit 1, and multinode is left as it was.
mkdir -p "$WORK/blocked"
echo "previous" >"$WORK/blocked/multinode"
mkdir "$WORK/blocked/globals.yml"
expect_exit 1 "$AIRSTRAP" inventory "$site" --format kolla -o "$WORK/blocked"
[ "$(cat "$WORK/blocked/multinode")" = previous ] || fail "multinode replaced though globals.yml failed"
[ "$(ls -A "$WORK/blocked" | wc -l)" -eq 2 ] || fail "temp files left behind: $(ls -A "$WORK/blocked")"

# globals.yml: with PyYAML when there, else line by line.
if python3 -c 'import yaml' 2>/dev/null; then
    python3 - "$out/globals.yml" <<'PY' || fail "globals.yml"
import sys, yaml
g = yaml.safe_load(open(sys.argv[1]))
want = {
    "network_interface": "ens32",
    "neutron_external_interface": "ens34",
    "neutron_plugin_agent": "openvswitch",
    "kolla_internal_vip_address": "192.168.111.10",
    "enable_haproxy": "no",
    "openstack_release": "queens",
    "kolla_base_distro": "centos",
    "enable_swift": "no",
    "enable_aodh": "no",
    "enable_cinder": "yes",
    "enable_cinder_backend_lvm": "yes",
    "nova_compute_virt_type": "kvm",
}
for k, v in want.items():
    assert g.get(k) == v, (k, g.get(k), v)
assert "docker_registry" not in g, "docker_registry is the operator's"
PY
else
    for line in 'network_interface: "ens32"' 'neutron_external_interface: "ens34"' \
                'neutron_plugin_agent: "openvswitch"' 'kolla_internal_vip_address: "192.168.111.10"'; do
        grep -q "^$line" "$out/globals.yml" || fail "globals.yml lacks $line"
    done
fi

# The inventory as Ansible reads it.
command -v ansible-inventory >/dev/null || skip "no ansible-inventory (apt-get install ansible-core)"
ANSIBLE_LOCAL_TEMP="$WORK/ansible-tmp" ANSIBLE_HOME="$WORK/ansible" \
    ansible-inventory -i "$out/multinode" --list >"$WORK/inventory.json" 2>"$WORK/inventory.err" \
    || fail "ansible-inventory: $(cat "$WORK/inventory.err")"
python3 - "$WORK/inventory.json" "$out/multinode" <<'PY' || fail "the inventory as Ansible reads it"
import json, re, sys
inv = json.load(open(sys.argv[1]))
sections = set()
for line in open(sys.argv[2]):
    m = re.match(r"^\[([^\]:]+)(:children)?\]$", line.strip())
    if m:
        sections.add(m.group(1))

def hosts(group, seen=()):
    """Every host of a group, through its children, as Ansible resolves it."""
    assert group in sections, f"group {group} not in the file"
    g = inv.get(group, {})  # --list leaves out groups without hosts (inner-compute)
    out = set(g.get("hosts", []))
    for child in g.get("children", []):
        assert child not in seen, f"cycle at {child}"
        out |= hosts(child, seen + (group,))
    return out

expect = {
    "control": {"controller-node"},
    "network": {"network-node"},
    "compute": {"compute-node"},
    "monitoring": {"controller-node"},
    "storage": {"controller-node"},
    "deployment": {"localhost"},
    # kolla has no nova-compute group: that container runs on "compute".
    "nova": {"controller-node"},
    "nova-compute-ironic": {"controller-node"},
    "neutron-server": {"controller-node"},
    "neutron-l3-agent": {"network-node"},
    "neutron-dhcp-agent": {"network-node"},
    "openvswitch": {"network-node", "compute-node"},
    "cinder-volume": {"controller-node"},
    "mariadb": {"controller-node"},
    "baremetal": {"controller-node", "network-node", "compute-node"},
}
for group, want in expect.items():
    got = hosts(group)
    assert got == want, (group, got, want)
hv = inv["_meta"]["hostvars"]
assert hv["controller-node"]["ansible_host"] == "192.168.111.10", hv
assert hv["network-node"]["ansible_host"] == "192.168.111.11", hv
assert hv["compute-node"]["ansible_host"] == "192.168.111.12", hv
assert hv["localhost"]["ansible_connection"] == "local", hv
# Every child Ansible saw is a group of the file (Ansible would make an undefined one up).
named = {c for g in inv.values() if isinstance(g, dict) for c in g.get("children", [])}
assert named <= sections | {"ungrouped"}, named - sections
PY

pass "kolla inventory: $(grep -c '^\[' "$out/multinode") groups that ansible-inventory resolves to the site's nodes"
