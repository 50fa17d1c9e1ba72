# Sourced by scripts/test.sh and scripts/demo.sh: the Debian packages cstoken needs
# and a function that installs the missing ones.

# Everything the build, the tests and the demo need, by Debian package name.
packages=(
	cmake gcc make pkg-config
	libsecret-1-dev libglib2.0-dev libdbus-1-dev libgcrypt20-dev libcurl4-openssl-dev
	libcjson-dev libinih-dev libssl-dev libpam0g-dev libcmocka-dev
	gnome-keyring dbus dbus-daemon libsecret-tools
	git curl openssl python3 faketime procps util-linux etcd-server etcd-client
	pamtester libpam-wrapper libnss-wrapper libuid-wrapper libpamtest0-dev
	mandoc clang-format clang libclang-rt-14-dev zsh fish
	dpkg-dev xz-utils ca-certificates
	debhelper devscripts lintian fakeroot
)

install_missing() {
	local missing=() p
	for p in "${packages[@]}"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "cstoken: missing packages: ${missing[*]}; install them as root" >&2
		exit 1
	fi
	echo "cstoken: installing ${missing[*]}"
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}
