# Build CO-RE eBPF programs and their libbpf skeletons.
#
#   include(BpfObject)
#   pagemig_bpf_object(NAME SOURCE name.bpf.c [HEADERS name.h ...])
#
# compiles SOURCE (relative to the calling directory) with clang -target bpf against a vmlinux.h,
# generates NAME.skel.h with `bpftool gen skeleton`, and defines the INTERFACE library NAME_skel:
# its include path holds NAME.skel.h and the calling source directory (for the headers shared with
# user space), and it links libbpf, so consumers only write
#
#   target_link_libraries(prog PRIVATE NAME_skel)
#
# and #include "NAME.skel.h". HEADERS are extra dependencies of the object; every header the
# compiler actually reads is tracked too (clang depfile), so listing them is optional.
#
# vmlinux.h is generated once per build tree, at build time, from the running kernel's BTF
# (/sys/kernel/btf/vmlinux), into <build>/vmlinux/. Set the cache variable PAGEMIG_VMLINUX_H to
# a file to use it instead (a checked-in header, or one dumped from another kernel's BTF).
# After booting a different kernel, delete <build>/vmlinux/vmlinux.h to regenerate it; CO-RE
# programs do not need that to load on the new kernel.
#
# Cache variables: PAGEMIG_BPF_CLANG, PAGEMIG_BPFTOOL, PAGEMIG_VMLINUX_H.
# Targets: pagemig_vmlinux_h, NAME_skel_gen (builds NAME.skel.h, part of ALL), NAME_skel.

include_guard(GLOBAL)

find_package(PkgConfig REQUIRED)

# --- tools -----------------------------------------------------------------------------------

find_program(PAGEMIG_BPF_CLANG NAMES clang clang-16 clang-15 clang-14 clang-13
	DOC "clang used to compile the eBPF programs (>= 10)")
if(NOT PAGEMIG_BPF_CLANG)
	message(FATAL_ERROR "BpfObject: clang not found; install clang, set PAGEMIG_BPF_CLANG, "
		"or configure with -DPAGEMIG_BPF=OFF")
endif()
execute_process(COMMAND ${PAGEMIG_BPF_CLANG} --version
	OUTPUT_VARIABLE _pm_clang_version_out RESULT_VARIABLE _pm_rc ERROR_QUIET)
if(NOT _pm_rc EQUAL 0 OR NOT _pm_clang_version_out MATCHES "clang version ([0-9]+\\.[0-9.]+)")
	message(FATAL_ERROR "BpfObject: cannot get the version of ${PAGEMIG_BPF_CLANG}")
endif()
set(_pm_clang_version ${CMAKE_MATCH_1})
if(_pm_clang_version VERSION_LESS 10)
	message(FATAL_ERROR "BpfObject: ${PAGEMIG_BPF_CLANG} is clang ${_pm_clang_version}; "
		"BTF-defined maps and CO-RE need clang >= 10 (set PAGEMIG_BPF_CLANG)")
endif()

find_program(PAGEMIG_BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin /usr/local/sbin
	DOC "bpftool used to dump vmlinux.h and generate skeletons")
if(NOT PAGEMIG_BPFTOOL)
	message(FATAL_ERROR "BpfObject: bpftool not found (Debian: apt-get install bpftool); "
		"set PAGEMIG_BPFTOOL or configure with -DPAGEMIG_BPF=OFF")
endif()

# libbpf for the skeletons' consumers (elf and z for static libbpf links). GLOBAL so that other
# directories (the daemon) can use PkgConfig::PAGEMIG_LIBBPF directly as well.
pkg_check_modules(PAGEMIG_LIBBPF REQUIRED IMPORTED_TARGET GLOBAL libbpf>=1.0 libelf zlib)
pkg_get_variable(_pm_libbpf_includedir libbpf includedir)

# --- target architecture, as bpf_tracing.h spells it (__TARGET_ARCH_xxx) ----------------------

string(TOLOWER "${CMAKE_SYSTEM_PROCESSOR}" _pm_proc)
if(_pm_proc MATCHES "^(x86_64|amd64|i.86)$")
	set(_pm_bpf_arch x86)
elseif(_pm_proc MATCHES "^(aarch64|arm64)")
	set(_pm_bpf_arch arm64)
elseif(_pm_proc MATCHES "^arm")
	set(_pm_bpf_arch arm)
elseif(_pm_proc MATCHES "^(ppc|powerpc)")
	set(_pm_bpf_arch powerpc)
elseif(_pm_proc MATCHES "^s390")
	set(_pm_bpf_arch s390)
elseif(_pm_proc MATCHES "^riscv")
	set(_pm_bpf_arch riscv)
elseif(_pm_proc MATCHES "^loongarch")
	set(_pm_bpf_arch loongarch)
elseif(_pm_proc MATCHES "^mips")
	set(_pm_bpf_arch mips)
else()
	message(FATAL_ERROR "BpfObject: no BPF target arch known for '${CMAKE_SYSTEM_PROCESSOR}'")
endif()

# --- clang's system include directories -------------------------------------------------------
# With -target bpf clang drops the host's multiarch directories (/usr/include/<triplet>, where
# asm/ lives); ask the host clang for its search list and append it with -idirafter so BPF code
# may include UAPI headers. Same idea as libbpf-bootstrap's FindBpfObject.cmake.

execute_process(COMMAND ${PAGEMIG_BPF_CLANG} -v -E -
	INPUT_FILE /dev/null OUTPUT_QUIET ERROR_VARIABLE _pm_clang_v RESULT_VARIABLE _pm_rc)
if(NOT _pm_rc EQUAL 0)
	message(FATAL_ERROR "BpfObject: '${PAGEMIG_BPF_CLANG} -v -E -' failed:\n${_pm_clang_v}")
endif()
set(_pm_sys_includes "")
set(_pm_sys_dirs "")
set(_pm_in_list FALSE)
string(REPLACE "\n" ";" _pm_clang_v_lines "${_pm_clang_v}")
foreach(_pm_line IN LISTS _pm_clang_v_lines)
	if(_pm_line MATCHES "^#include <\\.\\.\\.> search starts here:")
		set(_pm_in_list TRUE)
	elseif(_pm_line MATCHES "^End of search list\\.")
		set(_pm_in_list FALSE)
	elseif(_pm_in_list)
		string(STRIP "${_pm_line}" _pm_dir)
		string(REGEX REPLACE " \\(framework directory\\)$" "" _pm_dir "${_pm_dir}")
		list(APPEND _pm_sys_dirs "${_pm_dir}")
		list(APPEND _pm_sys_includes -idirafter "${_pm_dir}")
	endif()
endforeach()
if(NOT _pm_sys_dirs)
	message(FATAL_ERROR "BpfObject: no system include directories in "
		"'${PAGEMIG_BPF_CLANG} -v -E -' output")
endif()

# libbpf's headers (<bpf/bpf_helpers.h> ...): ahead of the system dirs when libbpf lives
# elsewhere, so that a newer libbpf in its own prefix wins over a distribution copy.
set(_pm_libbpf_includes "")
foreach(_pm_dir IN LISTS PAGEMIG_LIBBPF_INCLUDE_DIRS _pm_libbpf_includedir)
	if(_pm_dir AND NOT _pm_dir IN_LIST _pm_sys_dirs)
		list(APPEND _pm_libbpf_includes -isystem "${_pm_dir}")
	endif()
endforeach()
list(REMOVE_DUPLICATES _pm_libbpf_includes)

# --- vmlinux.h -------------------------------------------------------------------------------

set(PAGEMIG_VMLINUX_H "" CACHE FILEPATH
	"vmlinux.h to compile the eBPF programs against (empty: dump the running kernel's BTF)")
set(_pm_btf /sys/kernel/btf/vmlinux)
set(_pm_vmlinux_dir ${CMAKE_BINARY_DIR}/vmlinux)
set(_pm_vmlinux_h ${_pm_vmlinux_dir}/vmlinux.h)
file(MAKE_DIRECTORY ${_pm_vmlinux_dir})

if(PAGEMIG_VMLINUX_H)
	get_filename_component(_pm_given "${PAGEMIG_VMLINUX_H}" ABSOLUTE)
	if(NOT EXISTS "${_pm_given}" OR IS_DIRECTORY "${_pm_given}")
		message(FATAL_ERROR "BpfObject: PAGEMIG_VMLINUX_H=${PAGEMIG_VMLINUX_H} is not a file")
	endif()
	add_custom_command(OUTPUT ${_pm_vmlinux_h}
		COMMAND ${CMAKE_COMMAND} -E copy ${_pm_given} ${_pm_vmlinux_h}
		DEPENDS ${_pm_given}
		COMMENT "Using ${_pm_given} as vmlinux.h"
		VERBATIM)
	set(_pm_vmlinux_from "${_pm_given}")
else()
	if(NOT EXISTS ${_pm_btf})
		message(FATAL_ERROR "BpfObject: this kernel exposes no BTF (${_pm_btf} is missing), "
			"so vmlinux.h cannot be generated. Either pass -DPAGEMIG_VMLINUX_H=<file> "
			"(e.g. from `bpftool btf dump file <vmlinux with BTF> format c` on another "
			"machine) or configure with -DPAGEMIG_BPF=OFF.")
	endif()
	# Write to a temporary file and rename, so that a failed dump leaves no truncated header.
	# No dependency on the BTF file itself: its mtime changes at every boot, and CO-RE programs
	# built against one kernel's types load on the others.
	add_custom_command(OUTPUT ${_pm_vmlinux_h}
		COMMAND ${PAGEMIG_BPFTOOL} btf dump file ${_pm_btf} format c
			> ${_pm_vmlinux_h}.tmp
		COMMAND ${CMAKE_COMMAND} -E rename ${_pm_vmlinux_h}.tmp ${_pm_vmlinux_h}
		COMMENT "Generating vmlinux.h from ${_pm_btf}"
		VERBATIM)
	set(_pm_vmlinux_from "${_pm_btf}")
endif()
# The header is generated in this directory but used by objects in any directory; a target
# gives the Makefile generators the cross-directory ordering that a file dependency cannot.
add_custom_target(pagemig_vmlinux_h DEPENDS ${_pm_vmlinux_h})

message(STATUS "BPF: clang ${_pm_clang_version} (${PAGEMIG_BPF_CLANG}), "
	"bpftool ${PAGEMIG_BPFTOOL}, libbpf ${PAGEMIG_LIBBPF_libbpf_VERSION}, "
	"arch ${_pm_bpf_arch}, vmlinux.h from ${_pm_vmlinux_from}")

# The function may be called from any directory, where the variables above are not visible
# (include_guard makes later include()s no-ops): keep them in global properties.
set_property(GLOBAL PROPERTY PAGEMIG_BPF_ARCH ${_pm_bpf_arch})
set_property(GLOBAL PROPERTY PAGEMIG_BPF_SYS_INCLUDES "${_pm_sys_includes}")
set_property(GLOBAL PROPERTY PAGEMIG_BPF_LIBBPF_INCLUDES "${_pm_libbpf_includes}")
set_property(GLOBAL PROPERTY PAGEMIG_BPF_VMLINUX_H ${_pm_vmlinux_h})

# --- the function ----------------------------------------------------------------------------

function(pagemig_bpf_object name)
	cmake_parse_arguments(PARSE_ARGV 1 ARG "" "SOURCE" "HEADERS")
	if(ARG_UNPARSED_ARGUMENTS)
		message(FATAL_ERROR "pagemig_bpf_object(${name}): unknown arguments "
			"'${ARG_UNPARSED_ARGUMENTS}'")
	endif()
	if(NOT ARG_SOURCE)
		message(FATAL_ERROR "pagemig_bpf_object(${name}): SOURCE is required")
	endif()
	if(TARGET ${name}_skel)
		message(FATAL_ERROR "pagemig_bpf_object(${name}): defined twice")
	endif()

	get_property(arch GLOBAL PROPERTY PAGEMIG_BPF_ARCH)
	get_property(sys_includes GLOBAL PROPERTY PAGEMIG_BPF_SYS_INCLUDES)
	get_property(libbpf_includes GLOBAL PROPERTY PAGEMIG_BPF_LIBBPF_INCLUDES)
	get_property(vmlinux_h GLOBAL PROPERTY PAGEMIG_BPF_VMLINUX_H)
	get_filename_component(vmlinux_dir ${vmlinux_h} DIRECTORY)

	get_filename_component(src ${ARG_SOURCE} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
	set(headers "")
	foreach(h IN LISTS ARG_HEADERS)
		get_filename_component(h ${h} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
		list(APPEND headers ${h})
	endforeach()

	set(out_dir ${CMAKE_CURRENT_BINARY_DIR})
	set(obj ${out_dir}/${name}.bpf.o)
	set(skel ${out_dir}/${name}.skel.h)

	set(warn -Wall)
	if(PAGEMIG_WERROR)
		list(APPEND warn -Werror)
	endif()

	# Deliberately a custom command: none of the host compile options (-fstack-protector,
	# sanitizers, _FORTIFY_SOURCE) apply to BPF code. -g is required: BTF comes from it.
	add_custom_command(OUTPUT ${obj}
		COMMAND ${PAGEMIG_BPF_CLANG} -g -O2 -target bpf -D__TARGET_ARCH_${arch} ${warn}
			-I${vmlinux_dir} -I${CMAKE_CURRENT_SOURCE_DIR} ${libbpf_includes}
			${sys_includes} -MD -MF ${obj}.d -c ${src} -o ${obj}
		DEPENDS ${src} ${headers} ${vmlinux_h}
		DEPFILE ${obj}.d
		COMMENT "Building BPF object ${name}.bpf.o"
		COMMAND_EXPAND_LISTS VERBATIM)

	# bpftool writes the skeleton to stdout; rename so that a failure leaves no half file.
	add_custom_command(OUTPUT ${skel}
		COMMAND ${PAGEMIG_BPFTOOL} gen skeleton ${obj} > ${skel}.tmp
		COMMAND ${CMAKE_COMMAND} -E rename ${skel}.tmp ${skel}
		DEPENDS ${obj}
		COMMENT "Generating BPF skeleton ${name}.skel.h"
		VERBATIM)

	add_custom_target(${name}_skel_gen ALL DEPENDS ${skel})
	add_dependencies(${name}_skel_gen pagemig_vmlinux_h)

	add_library(${name}_skel INTERFACE)
	# Followed transitively by every target that links ${name}_skel.
	add_dependencies(${name}_skel ${name}_skel_gen)
	target_include_directories(${name}_skel INTERFACE ${out_dir} ${CMAKE_CURRENT_SOURCE_DIR})
	target_link_libraries(${name}_skel INTERFACE PkgConfig::PAGEMIG_LIBBPF)
	set_target_properties(${name}_skel PROPERTIES
		PAGEMIG_BPF_OBJECT ${obj} PAGEMIG_BPF_SKELETON ${skel})
endfunction()
