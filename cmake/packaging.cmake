# What `cmake --install` installs, and the Debian packages assas-agent and assas-ingest that
# `cpack -G DEB` makes from the build directory (docs/operations.md). One CPack component per
# package: "agent" and "ingest".
#
#   ASSAS_DEB_ARCH       the packages' architecture (default: dpkg's; cross builds pass arm64)
#   ASSAS_DEB_SHLIBDEPS  compute Depends with dpkg-shlibdeps (default ON); OFF: a fixed list, for
#                        cross builds where dpkg-shlibdeps cannot read the target's libraries

install(TARGETS assas-agent RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT agent)
install(TARGETS assas-ingest RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT ingest)

# Files only the packages carry: their paths are absolute (/etc, /lib/systemd), so a plain
# `cmake --install` (to /usr/local) leaves them out rather than writing into the host's /etc.
set(assas_pkg ${PROJECT_SOURCE_DIR}/packaging)
set(assas_deb_staging ${PROJECT_BINARY_DIR}/packaging)
set(ASSAS_DEB_VERSION ${PROJECT_VERSION}-1)
configure_file(${assas_pkg}/debian/changelog.in ${assas_deb_staging}/changelog.Debian @ONLY)
# gzip -9n: the same bytes on every build (no name or timestamp), as Debian policy asks.
execute_process(COMMAND gzip -9nc ${assas_deb_staging}/changelog.Debian
  OUTPUT_FILE ${assas_deb_staging}/changelog.Debian.gz COMMAND_ERROR_IS_FATAL ANY)

foreach(component agent ingest)
  set(package assas-${component})
  install(FILES ${assas_pkg}/systemd/${package}.service DESTINATION /lib/systemd/system
    PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
    COMPONENT ${component} EXCLUDE_FROM_ALL)
  install(FILES ${assas_pkg}/config/${component}.yaml DESTINATION /etc/assas
    PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
    COMPONENT ${component} EXCLUDE_FROM_ALL)
  install(FILES ${assas_pkg}/debian/copyright ${assas_deb_staging}/changelog.Debian.gz
    ${PROJECT_SOURCE_DIR}/docs/operations.md
    DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${package}
    PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
    COMPONENT ${component} EXCLUDE_FROM_ALL)
endforeach()

# The host's dpkg architecture, or the target's when cross-compiling (scripts/cross-build.sh also
# passes -DASSAS_DEB_ARCH).
set(assas_default_arch "")
if(CMAKE_CROSSCOMPILING)
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
    set(assas_default_arch arm64)
  elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^arm")
    set(assas_default_arch armhf)
  elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|amd64)$")
    set(assas_default_arch amd64)
  endif()
endif()
if(NOT assas_default_arch)
  find_program(ASSAS_DPKG dpkg)
  if(ASSAS_DPKG)
    execute_process(COMMAND ${ASSAS_DPKG} --print-architecture
      OUTPUT_VARIABLE assas_default_arch OUTPUT_STRIP_TRAILING_WHITESPACE)
  else()
    set(assas_default_arch amd64)
  endif()
endif()
set(ASSAS_DEB_ARCH ${assas_default_arch} CACHE STRING "Debian architecture of the .deb packages")
option(ASSAS_DEB_SHLIBDEPS "Compute the packages' Depends with dpkg-shlibdeps" ON)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME assas)
set(CPACK_PACKAGE_VENDOR Assas)
set(CPACK_PACKAGE_CONTACT "Assas maintainers <assas@example.ma>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL agent ingest)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # assas-agent_0.1.0-1_amd64.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${ASSAS_DEB_ARCH})
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ${ASSAS_DEB_SHLIBDEPS})
# Maintainer scripts 0755, conffiles 0644, whatever their mode in the source tree.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_AGENT_PACKAGE_NAME assas-agent)
set(CPACK_DEBIAN_INGEST_PACKAGE_NAME assas-ingest)
set(CPACK_DEBIAN_AGENT_DESCRIPTION "log-forwarding agent for security operations
assas-agent tails log files, the systemd journal and syslog senders and ships
their events over mutual TLS 1.3 to assas-ingest at the SOC, or to rsyslog
(RELP) and syslog receivers. Events are kept in a disk buffer until the
receiver has acknowledged storing them.")
set(CPACK_DEBIAN_INGEST_DESCRIPTION "log receiver for assas-agent at the SOC
assas-ingest accepts assas-agent connections over mutual TLS 1.3 and stores
each agent's events as JSON lines, acknowledging them once they are durable
and dropping batches it already stored.")

# postinst runs adduser; dpkg-shlibdeps' Depends are added to these.
if(ASSAS_DEB_SHLIBDEPS)
  set(assas_agent_libs "")
  set(assas_ingest_libs "")
else()
  set(assas_common_libs "libc6, libgcc-s1, libssl3, libstdc++6, libsystemd0, libuv1, libyaml-cpp0.7, libzstd1")
  set(assas_agent_libs ", ${assas_common_libs}, libpcre2-8-0")
  set(assas_ingest_libs ", ${assas_common_libs}")
endif()
set(CPACK_DEBIAN_AGENT_PACKAGE_DEPENDS "adduser${assas_agent_libs}")
set(CPACK_DEBIAN_INGEST_PACKAGE_DEPENDS "adduser${assas_ingest_libs}")

foreach(component agent ingest)
  string(TOUPPER ${component} upper)
  set(dir ${assas_pkg}/debian/assas-${component})
  set(CPACK_DEBIAN_${upper}_PACKAGE_CONTROL_EXTRA
    ${dir}/conffiles ${dir}/postinst ${dir}/prerm ${dir}/postrm)
endforeach()

include(CPack)
