# The Debian package, built with CPack's DEB generator: one package, pagemig, holding pagemigd,
# pagemigctl, libpagemig (shared and static, header, pkg-config file), the systemd unit, the
# sysusers.d snippet, /etc/pagemig.conf (a conffile), the manual and the example configurations.
#
#   cmake --build BUILD --target package-deb      -> BUILD/pagemig_<version>-1_<arch>.deb
#
# A package must hold /usr paths (/usr/sbin/pagemigd, /etc/pagemig.conf, /lib/systemd/system),
# and the unit names them, so package-deb configures and builds a second tree, BUILD/deb, with
# CMAKE_INSTALL_PREFIX=/usr and without tests, and runs CPack there (`cmake --build BUILD/deb
# --target package`); its first build takes as long as a build, later ones only rebuild what
# changed. In a tree configured with -DCMAKE_INSTALL_PREFIX=/usr, `cpack -G DEB` works directly.
#
# Dependencies come from dpkg-shlibdeps (libbpf1, libnuma1, libhwloc15, libsystemd0, libjson-c5,
# libelf1, zlib1g, libc6, ...), plus procps for the unit's ExecReload=/bin/kill. The service is
# installed disabled: postinst runs systemd-sysusers (the group pagemig) and daemon-reload only.
include_guard(GLOBAL)

get_property(_pm_sysusersdir GLOBAL PROPERTY PAGEMIG_SYSUSERS_DIR)
get_property(_pm_config GLOBAL PROPERTY PAGEMIG_CONFIG_FILE)
if(NOT _pm_sysusersdir OR NOT _pm_config)
	message(FATAL_ERROR "Packaging.cmake: include it after add_subdirectory(systemd)")
endif()

set(PAGEMIG_DEB_MAINTAINER "pagemig developers <pagemig@localhost>" CACHE STRING
	"Maintainer field of the Debian package")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME pagemig)
set(CPACK_PACKAGE_VENDOR pagemig)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "NUMA page placement daemon, migration library and CLI")
# (CPack indents continuation lines; the lines are kept under 80 columns for dpkg -s.)
set(CPACK_PACKAGE_DESCRIPTION "\
pagemigd places the memory of running processes on the NUMA nodes that use
it: it samples memory accesses with eBPF, decides with configurable policies
(locality, tiering with memory-only nodes, pinning) which pages belong where,
and moves them with move_pages(2) within rate limits and free-memory
watermarks.
.
libpagemig, the migration engine, attributes every per-page outcome to the
step of the kernel's documented page-migration procedure where the kernel
backed out, retries what is transient and verifies where each page ended up.
pagemigctl shows the daemon's state, decisions and metrics, and steers it.
.
The service is installed disabled: systemctl enable --now pagemigd.")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_FILE_NAME pagemig) # the DEB generator names the file itself (DEB-DEFAULT)
set(CPACK_OUTPUT_FILE_PREFIX ${PROJECT_BINARY_DIR})

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${PAGEMIG_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY "=")
set(CPACK_DEBIAN_PACKAGE_DEPENDS "procps")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "prometheus-node-exporter")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

# Maintainer scripts and the conffile list, with this configuration's paths.
set(_pm_debian ${PROJECT_BINARY_DIR}/debian-control)
set(PAGEMIG_SYSUSERS_DIR ${_pm_sysusersdir})
foreach(script postinst prerm postrm)
	configure_file(${CMAKE_CURRENT_LIST_DIR}/debian/${script}.in ${_pm_debian}/${script} @ONLY
		FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
			WORLD_READ WORLD_EXECUTE)
endforeach()
file(WRITE ${_pm_debian}/conffiles "${_pm_config}\n")
# libpagemig.so.0: dpkg runs ldconfig once after the whole transaction.
file(WRITE ${_pm_debian}/triggers "activate-noawait ldconfig\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${_pm_debian}/conffiles ${_pm_debian}/triggers
	${_pm_debian}/postinst ${_pm_debian}/prerm ${_pm_debian}/postrm)

include(CPack)

# package-deb: the .deb from a /usr tree (see above).
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
	add_custom_target(package-deb
		COMMAND ${CMAKE_COMMAND} --build ${PROJECT_BINARY_DIR} --target package
		COMMENT "Building the Debian package in ${PROJECT_BINARY_DIR}"
		USES_TERMINAL VERBATIM)
else()
	set(_pm_deb_tree ${PROJECT_BINARY_DIR}/deb)
	set(_pm_args -G ${CMAKE_GENERATOR} -DCMAKE_INSTALL_PREFIX=/usr -DBUILD_TESTING=OFF
		-DCMAKE_BUILD_TYPE=RelWithDebInfo -DPAGEMIG_WERROR=OFF -DPAGEMIG_SANITIZE=OFF
		-DPAGEMIG_BPF=${PAGEMIG_BPF} -DCMAKE_C_COMPILER=${CMAKE_C_COMPILER}
		-DPAGEMIG_DEB_MAINTAINER=${PAGEMIG_DEB_MAINTAINER})
	if(PAGEMIG_VMLINUX_H)
		list(APPEND _pm_args -DPAGEMIG_VMLINUX_H=${PAGEMIG_VMLINUX_H})
	endif()
	add_custom_target(package-deb
		COMMAND ${CMAKE_COMMAND} -S ${PROJECT_SOURCE_DIR} -B ${_pm_deb_tree} ${_pm_args}
		COMMAND ${CMAKE_COMMAND} --build ${_pm_deb_tree} --target package
		COMMAND sh -c "rm -f '${PROJECT_BINARY_DIR}'/pagemig_*.deb && cp '${_pm_deb_tree}'/pagemig_*.deb '${PROJECT_BINARY_DIR}'/ && ls '${PROJECT_BINARY_DIR}'/pagemig_*.deb"
		COMMENT "Building the Debian package from ${_pm_deb_tree} (prefix /usr)"
		USES_TERMINAL VERBATIM)
endif()
