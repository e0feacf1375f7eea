#!/usr/bin/env bash
# The Packstack and OpenStack client stand-ins (tests/fixtures/stand-ins) are only worth what
# they refuse: this checks that a wrong answer file or a wrong client call fails as the real
# commands fail, so that integration.deploy passing means something. No root, no namespaces:
# "ssh" here is a script that runs the command in a folder per host.
source "$(dirname "$0")/common.sh"
command -v python3 >/dev/null || skip "no python3"
S=$SRC/tests/fixtures/stand-ins
export FIXTURE_ROOT=$WORK/root FIXTURE_PACKSTACK_TSV=$SRC/site/packstack/queens.tsv
mkdir -p "$FIXTURE_ROOT" "$WORK/hosts"
cat >"$WORK/fake-ssh" <<EOF2
#!/bin/sh
# fake-ssh root@ADDR COMMAND: COMMAND in $WORK/hosts/ADDR, whose host name is host-ADDR
addr=\${1#root@}
mkdir -p "$WORK/hosts/\$addr" && cd "$WORK/hosts/\$addr" || exit 255
hostname() { echo "host-\$addr"; }
eval "\$2"
EOF2
chmod +x "$WORK/fake-ssh"
export FIXTURE_SSH=$WORK/fake-ssh
CLOUD=$FIXTURE_ROOT/var/lib/fixture-cloud

# ---- packstack --gen-answer-file -----------------------------------------------------------------
expect_exit 0 "$S/packstack" --gen-answer-file="$WORK/gen.txt"
want=$(grep -vc '^#\|^conf_name' "$FIXTURE_PACKSTACK_TSV")
have=$(grep -c '^[A-Z_0-9]*=' "$WORK/gen.txt")
[ "$want" = "$have" ] || fail "gen-answer-file wrote $have parameters, the table has $want"
[ "$(stat -c %a "$WORK/gen.txt")" = 600 ] || fail "gen-answer-file's file is not 0600"
grep -q '^CONFIG_KEYSTONE_ADMIN_PW=[0-9a-f]\{16\}$' "$WORK/gen.txt" || fail "no generated admin password"

# A good answer file, edited like the seed's.
good=$WORK/good.txt
sed -e 's/^CONFIG_CONTROLLER_HOST=.*/CONFIG_CONTROLLER_HOST=192.168.111.10/' \
    -e 's/^CONFIG_NETWORK_HOSTS=.*/CONFIG_NETWORK_HOSTS=192.168.111.11/' \
    -e 's/^CONFIG_COMPUTE_HOSTS=.*/CONFIG_COMPUTE_HOSTS=192.168.111.12/' \
    -e 's/^CONFIG_CINDER_VOLUMES_SIZE=.*/CONFIG_CINDER_VOLUMES_SIZE=10G/' \
    -e 's/^CONFIG_NEUTRON_OVS_BRIDGE_IFACES=.*/CONFIG_NEUTRON_OVS_BRIDGE_IFACES=br-ex:ens34/' \
    -e 's/^CONFIG_KEYSTONE_ADMIN_PW=.*/CONFIG_KEYSTONE_ADMIN_PW=admin-pw/' \
    -e 's/^CONFIG_PROVISION_DEMO=.*/CONFIG_PROVISION_DEMO=n/' "$WORK/gen.txt" >"$good"

# ---- what packstack refuses ----------------------------------------------------------------------
refused() {  # refused WHAT PATTERN SED-EXPR…: the good file edited, packstack must say PATTERN
    local what=$1 pattern=$2
    shift 2
    sed "$@" "$good" >"$WORK/bad.txt"
    expect_exit 1 "$S/packstack" --answer-file="$WORK/bad.txt"
    grep -q -- "$pattern" <<<"$OUT" || fail "$what: packstack did not say '$pattern':"$'\n'"$OUT"
}
refused "an unknown key" "unknown parameter CONFIG_NOVA_COMPUTE_HOSTS" -e '$a CONFIG_NOVA_COMPUTE_HOSTS=1.2.3.4'
refused "a key twice" "CONFIG_SWIFT_INSTALL is already set on line" -e '$a CONFIG_SWIFT_INSTALL=n'
refused "a missing key" "parameter CONFIG_AODH_INSTALL is missing" -e '/^CONFIG_AODH_INSTALL=/d'
refused "a line that is no parameter" "not a parameter line" -e '$a this is not a setting'
refused "an option packstack does not know" "CONFIG_SWIFT_INSTALL failed validation: 'no' is not one of" -e 's/^CONFIG_SWIFT_INSTALL=.*/CONFIG_SWIFT_INSTALL=no/'
refused "a host that is no address" "CONFIG_COMPUTE_HOSTS failed validation" -e 's/^CONFIG_COMPUTE_HOSTS=.*/CONFIG_COMPUTE_HOSTS=compute-node/'
refused "a volume size without G" "CONFIG_CINDER_VOLUMES_SIZE failed validation: must look like 20G" -e 's/^CONFIG_CINDER_VOLUMES_SIZE=.*/CONFIG_CINDER_VOLUMES_SIZE=10/'
refused "a bridge interface list" "CONFIG_NEUTRON_OVS_BRIDGE_IFACES failed validation" -e 's/^CONFIG_NEUTRON_OVS_BRIDGE_IFACES=.*/CONFIG_NEUTRON_OVS_BRIDGE_IFACES=ens34/'
refused "excluding a stranger" "EXCLUDE_SERVERS failed validation: 10.0.0.9 is none of the hosts" -e 's/^EXCLUDE_SERVERS=.*/EXCLUDE_SERVERS=10.0.0.9/'
refused "the demo from the internet" "no network (air-gapped site)" -e 's/^CONFIG_PROVISION_DEMO=.*/CONFIG_PROVISION_DEMO=y/'
[ ! -e "$FIXTURE_ROOT/root/keystonerc_admin" ] || fail "a refused answer file deployed something"
expect_exit 2 "$S/packstack" --allinone

# ---- a deployment, a failing manifest, a redeployment ----------------------------------------------
echo 192.168.111.11_network.pp >"$CLOUD/fail-manifest"
expect_exit 1 "$S/packstack" --answer-file="$good"
grep -q "^ERROR : Error appeared during Puppet run: 192.168.111.11_network.pp$" <<<"$OUT" || fail "no puppet error: $OUT"
grep -q "^You will find full trace in log /var/tmp/packstack/.*/manifests/192.168.111.11_network.pp.log$" <<<"$OUT" || fail "no trace log: $OUT"
rm "$CLOUD/fail-manifest"
expect_exit 0 "$S/packstack" --answer-file="$good"
grep -q "Installation completed successfully" <<<"$OUT" || fail "no success line: $OUT"
for h in 192.168.111.10/controller 192.168.111.11/network 192.168.111.12/compute; do
    [ -f "$WORK/hosts/${h%/*}/.packstack-fixture/${h#*/}.applied" ] || fail "no ${h#*/} manifest applied on ${h%/*}"
done
rc=$FIXTURE_ROOT/root/keystonerc_admin
[ "$(stat -c %a "$rc")" = 600 ] || fail "keystonerc_admin is not 0600"
os() {  # os ARGS…: the client with keystonerc_admin's variables
    env $(grep -o 'OS_[A-Z_]*=[^ ]*' "$rc" | tr -d "'") "$S/openstack" "$@"
}
expect_exit 1 "$S/openstack" token issue -f json
grep -q "Missing value auth-url required for auth plugin password" <<<"$OUT" || fail "no credentials: $OUT"
OUT=$(env $(grep -o 'OS_[A-Z_]*=[^ ]*' "$rc" | tr -d "'") OS_PASSWORD=wrong "$S/openstack" token issue -f json 2>&1) &&
    fail "a wrong password was accepted"
grep -q "(HTTP 401)" <<<"$OUT" || fail "wrong password: $OUT"
os token issue -f json | python3 -c 'import json,sys; assert json.load(sys.stdin)["id"]' || fail "token issue"
state() { os compute service list -f json | python3 -c 'import json,sys; print(" ".join(r["Host"] + "=" + r["State"] for r in json.load(sys.stdin) if r["Binary"] == "nova-compute"))'; }
[ "$(state)" = "host-192.168.111.12=up" ] || fail "nova-compute: $(state)"
rm -rf "$WORK/hosts/192.168.111.12"   # the compute node is reinstalled
[ "$(state)" = "host-192.168.111.12=down" ] || fail "nova-compute after reinstalling: $(state)"
sed 's/^EXCLUDE_SERVERS=.*/EXCLUDE_SERVERS=192.168.111.10,192.168.111.11/' "$good" >"$WORK/redeploy.txt"
expect_exit 0 "$S/packstack" --answer-file="$WORK/redeploy.txt"
grep -q "Applying 192.168.111.10_controller.pp" <<<"$OUT" && fail "an excluded host was deployed: $OUT"
[ "$(state)" = "host-192.168.111.12=up" ] || fail "nova-compute after the redeployment: $(state)"

# ---- what the client refuses -----------------------------------------------------------------------
expect_exit 0 os flavor create --vcpus 1 --ram 128 --disk 1 --public m1.nano -f json
OUT=$(os flavor create --vcpus 1 --ram 128 --disk 1 m1.nano 2>&1) && fail "a flavor was made twice"
grep -q "Flavor with name m1.nano already exists" <<<"$OUT" || fail "flavor twice: $OUT"
OUT=$(os user create --project admin --password-prompt uat </dev/null 2>&1) && fail "a password prompt without a terminal"
grep -q "a terminal was not detected" <<<"$OUT" || fail "no terminal: $OUT"
OUT=$(os network create --external --provider-network-type flat --provider-physical-network physnet9 ext 2>&1) && fail "an unknown physical network was accepted"
grep -q "physical_network 'physnet9' unknown" <<<"$OUT" || fail "physnet: $OUT"
OUT=$(os servers list 2>&1) && fail "an unknown command was accepted"
grep -q "is not an openstack command" <<<"$OUT" || fail "unknown command: $OUT"
OUT=$(os image create --disk-format qcow2 --container-format bare --file /nowhere.img x 2>&1) && fail "an image from nothing"
grep -q "No such file" <<<"$OUT" || fail "missing image file: $OUT"
! grep -q "admin-pw" "$CLOUD/calls.log" || fail "a password is in calls.log"
pass "stand-ins: packstack refuses 10 kinds of bad answer files, reports a failing manifest, redeploys with EXCLUDE_SERVERS; the client checks credentials, names, terminals and files"
