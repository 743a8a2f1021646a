# The NUMA lab: cases that run inside QEMU guests booting Debian kernels (see tests/lab/README.md).
#
#   pagemig_lab_test(NAME SOURCES src.c... [LIBS lib...] [NODES 3|2...] [TIMEOUT seconds]
#                    [ARGS arg...] [BALANCING] [MANUAL])
#
# builds NAME from SOURCES, linked with LIBS, and adds it to the lab image as /lab/bin/NAME.
# NODES lists the topologies it runs on (default 3; `NODES 2 3` runs on both), TIMEOUT bounds
# one run inside the guest (default 60 s), ARGS are passed to it (no spaces inside an argument),
# BALANCING leaves kernel NUMA balancing on while it runs (the lab switches it off otherwise).
# MANUAL cases (demos) are in the image but run only when named (run-lab.sh --tests NAME): no
# CTest test runs them.
# Exit status: 0 pass, 77 skip, anything else fail; print to stdout.
#
#   pagemig_lab_file(SRC DEST)
#
# puts the file SRC into the image at the absolute path DEST (a configuration, a script).
#
#   pagemig_lab_program(TARGET...)
#
# puts already-defined executables into the image as /lab/bin/<file name> without making them
# cases (tools a case runs, e.g. a CLI).
#
# Both do nothing when PAGEMIG_LAB or BUILD_TESTING is off. Callable from any directory once
# this file is included. At the end of the top-level
# configure, the collected cases become ${PROJECT_BINARY_DIR}/tests/lab/manifest.txt, the
# target lab-image (in ALL) packs them into tests/lab/initramfs.cpio.gz, and CTest gets, with
# label lab, one test per kernel and topology that has cases, e.g. lab-6.12-3node (one boot
# runs every case of that topology), plus lab-fetch-<kernel> fixtures that download the kernels.
# Target lab-shell boots the image with an interactive shell (USES_TERMINAL).
include_guard(GLOBAL)

option(PAGEMIG_LAB "Register the NUMA lab (QEMU guests; CTest label lab)" ON)
set(PAGEMIG_LAB_KERNELS "6.1;6.12" CACHE STRING "Debian kernels the lab boots (6.1 and/or 6.12)")
set(PAGEMIG_LAB_BOOT_TIMEOUT 180 CACHE STRING
	"Seconds a lab guest may take on top of the sum of its cases' timeouts before it is killed")

function(pagemig_lab_test name)
	cmake_parse_arguments(PARSE_ARGV 1 L "BALANCING;MANUAL" "TIMEOUT" "SOURCES;LIBS;NODES;ARGS")
	if(NOT PAGEMIG_LAB OR NOT BUILD_TESTING)
		return()
	endif()
	if(NOT name MATCHES "^[A-Za-z0-9_-]+$")
		message(FATAL_ERROR "pagemig_lab_test(${name}): the name may hold letters, digits, _ and - only")
	endif()
	if(L_UNPARSED_ARGUMENTS)
		message(FATAL_ERROR "pagemig_lab_test(${name}): unexpected arguments ${L_UNPARSED_ARGUMENTS}")
	endif()
	if(NOT L_SOURCES)
		message(FATAL_ERROR "pagemig_lab_test(${name}): SOURCES is required")
	endif()
	if(NOT L_NODES)
		set(L_NODES 3)
	endif()
	foreach(n IN LISTS L_NODES)
		if(NOT n MATCHES "^[23]$")
			message(FATAL_ERROR "pagemig_lab_test(${name}): NODES takes 2 and/or 3, not ${n}")
		endif()
	endforeach()
	list(REMOVE_DUPLICATES L_NODES)
	if(NOT L_TIMEOUT)
		set(L_TIMEOUT 60)
	elseif(NOT L_TIMEOUT MATCHES "^[1-9][0-9]*$")
		message(FATAL_ERROR "pagemig_lab_test(${name}): TIMEOUT must be a number of seconds")
	endif()
	foreach(a IN LISTS L_ARGS)
		if(a MATCHES "[ \t]")
			message(FATAL_ERROR "pagemig_lab_test(${name}): ARGS may not contain spaces ('${a}')")
		endif()
	endforeach()
	get_property(known GLOBAL PROPERTY PAGEMIG_LAB_CASES)
	if(name IN_LIST known)
		message(FATAL_ERROR "pagemig_lab_test(${name}): a lab case with this name already exists")
	endif()

	set(target labcase_${name})
	add_executable(${target} ${L_SOURCES})
	set_target_properties(${target} PROPERTIES OUTPUT_NAME ${name}
		RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests/lab/bin)
	target_link_libraries(${target} PRIVATE ${L_LIBS})
	target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/tests/common)

	set(flags)
	if(L_BALANCING)
		list(APPEND flags balancing)
	endif()
	if(L_MANUAL)
		list(APPEND flags manual)
	endif()
	if(flags)
		list(JOIN flags "," flags)
	else()
		set(flags -)
	endif()
	list(JOIN L_NODES "," nodes)
	list(JOIN L_ARGS " " args)
	set_property(GLOBAL APPEND PROPERTY PAGEMIG_LAB_CASES ${name})
	set_property(GLOBAL PROPERTY PAGEMIG_LAB_CASE_${name}
		"case\t${name}\t$<TARGET_FILE:${target}>\t${nodes}\t${L_TIMEOUT}\t${flags}\t${args}\n")
	set_property(GLOBAL PROPERTY PAGEMIG_LAB_CASE_${name}_NODES ${L_NODES})
	set_property(GLOBAL PROPERTY PAGEMIG_LAB_CASE_${name}_TIMEOUT ${L_TIMEOUT})
	set_property(GLOBAL PROPERTY PAGEMIG_LAB_CASE_${name}_MANUAL ${L_MANUAL})
	_pagemig_lab_schedule()
endfunction()

function(pagemig_lab_file src dest)
	if(NOT PAGEMIG_LAB OR NOT BUILD_TESTING)
		return()
	endif()
	if(NOT dest MATCHES "^/")
		message(FATAL_ERROR "pagemig_lab_file(${src} ${dest}): DEST must be absolute")
	endif()
	set_property(GLOBAL APPEND PROPERTY PAGEMIG_LAB_FILES "file\t${src}\t${dest}\n")
	set_property(GLOBAL APPEND PROPERTY PAGEMIG_LAB_FILE_SRCS ${src})
	_pagemig_lab_schedule()
endfunction()

function(pagemig_lab_program)
	if(NOT PAGEMIG_LAB OR NOT BUILD_TESTING)
		return()
	endif()
	set_property(GLOBAL APPEND PROPERTY PAGEMIG_LAB_PROGRAMS ${ARGN})
	_pagemig_lab_schedule()
endfunction()

# The image and the tests need every case, wherever it is declared: build them once the whole
# project has been read.
function(_pagemig_lab_schedule)
	get_property(scheduled GLOBAL PROPERTY PAGEMIG_LAB_SCHEDULED)
	if(NOT scheduled)
		set_property(GLOBAL PROPERTY PAGEMIG_LAB_SCHEDULED TRUE)
		cmake_language(DEFER DIRECTORY ${PROJECT_SOURCE_DIR} CALL _pagemig_lab_finalize)
	endif()
endfunction()

function(_pagemig_lab_finalize)
	set(src ${CMAKE_CURRENT_FUNCTION_LIST_DIR})
	set(dir ${PROJECT_BINARY_DIR}/tests/lab)
	set(image ${dir}/initramfs.cpio.gz)
	get_property(cases GLOBAL PROPERTY PAGEMIG_LAB_CASES)
	get_property(programs GLOBAL PROPERTY PAGEMIG_LAB_PROGRAMS)
	if(programs)
		list(REMOVE_DUPLICATES programs) # several directories may want the same tool
	endif()

	set(manifest "# Generated by tests/lab/PagemigLab.cmake: read by tests/lab/mkinitramfs.sh\n")
	set(deps)
	set(budget_2 0)
	set(budget_3 0)
	foreach(name IN LISTS cases)
		get_property(line GLOBAL PROPERTY PAGEMIG_LAB_CASE_${name})
		get_property(nodes GLOBAL PROPERTY PAGEMIG_LAB_CASE_${name}_NODES)
		get_property(timeout GLOBAL PROPERTY PAGEMIG_LAB_CASE_${name}_TIMEOUT)
		get_property(manual GLOBAL PROPERTY PAGEMIG_LAB_CASE_${name}_MANUAL)
		string(APPEND manifest "${line}")
		list(APPEND deps labcase_${name})
		if(manual)
			continue()
		endif()
		foreach(n IN LISTS nodes)
			math(EXPR budget_${n} "${budget_${n}} + ${timeout}")
			set(has_${n} TRUE)
		endforeach()
	endforeach()
	foreach(t IN LISTS programs)
		if(NOT TARGET ${t})
			message(FATAL_ERROR "pagemig_lab_program(${t}): no such target")
		endif()
		string(APPEND manifest "program\t$<TARGET_FILE:${t}>\n")
		list(APPEND deps ${t})
	endforeach()
	get_property(files GLOBAL PROPERTY PAGEMIG_LAB_FILES)
	get_property(file_srcs GLOBAL PROPERTY PAGEMIG_LAB_FILE_SRCS)
	foreach(f IN LISTS files)
		string(APPEND manifest "${f}")
	endforeach()
	file(GENERATE OUTPUT ${dir}/manifest.txt CONTENT "${manifest}")

	add_custom_command(OUTPUT ${image}
		COMMAND ${src}/mkinitramfs.sh --manifest ${dir}/manifest.txt -o ${image}
		DEPENDS ${dir}/manifest.txt ${src}/mkinitramfs.sh ${src}/guest/init ${src}/guest/lab-run
			${file_srcs}
			${deps}
		COMMENT "Building the NUMA lab initramfs"
		VERBATIM)
	add_custom_target(lab-image ALL DEPENDS ${image})

	add_custom_target(lab-shell
		COMMAND ${src}/run-lab.sh --shell --initramfs ${image}
		COMMENT "NUMA lab shell (PAGEMIG_LAB_KERNEL=6.1|6.12, PAGEMIG_LAB_NODES=3|2 choose)"
		USES_TERMINAL
		VERBATIM)
	add_dependencies(lab-shell lab-image)

	foreach(kernel IN LISTS PAGEMIG_LAB_KERNELS)
		add_test(NAME lab-fetch-${kernel} COMMAND ${src}/fetch-kernel.sh ${kernel})
		set_tests_properties(lab-fetch-${kernel} PROPERTIES LABELS lab TIMEOUT 900
			FIXTURES_SETUP lab-kernel-${kernel})
		foreach(n 3 2)
			if(NOT has_${n})
				continue()
			endif()
			math(EXPR guest_timeout "${budget_${n}} + ${PAGEMIG_LAB_BOOT_TIMEOUT}")
			math(EXPR ctest_timeout "${guest_timeout} + 60")
			set(test lab-${kernel}-${n}node)
			add_test(NAME ${test} COMMAND ${src}/run-lab.sh --kernel ${kernel} --nodes ${n}
				--initramfs ${image} --timeout ${guest_timeout}
				--log ${dir}/console-${kernel}-${n}node.log)
			# PROCESSORS 1: run-lab.sh's default single-threaded TCG runs both vCPUs on one
			# host thread, so two guests share a 2-core machine without slowing each other
			# (6.12 3-node guest 300 s beside the 6.1 one, 316 s alone).
			set_tests_properties(${test} PROPERTIES LABELS lab SKIP_RETURN_CODE 77
				TIMEOUT ${ctest_timeout} PROCESSORS 1 FIXTURES_REQUIRED lab-kernel-${kernel})
		endforeach()
	endforeach()
endfunction()
