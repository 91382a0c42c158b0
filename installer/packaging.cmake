# Installation layout and CPack packages (.deb and .tar.gz), built by
# installer/package.sh. Version and release date come from the top-level
# CMakeLists.txt; the maintainer and home page from cache variables.
include(GNUInstallDirs)

# Release date in the changelog's RFC 2822 form.
execute_process(COMMAND date -u -R -d "${EVENTDESK_RELEASE_DATE} 12:00:00"
                OUTPUT_VARIABLE EVENTDESK_RELEASE_DATE_RFC2822 OUTPUT_STRIP_TRAILING_WHITESPACE)
set(docs ${CMAKE_CURRENT_BINARY_DIR}/package-docs)
configure_file(resources/io.eventdesk.EventDesk.metainfo.xml.in ${docs}/io.eventdesk.EventDesk.metainfo.xml @ONLY)
configure_file(resources/debian/copyright ${docs}/copyright @ONLY)
configure_file(resources/debian/changelog.in ${docs}/changelog @ONLY)

# Debian wants the man page and the changelog compressed, reproducibly (-n: no name or time).
find_program(GZIP_PROGRAM gzip REQUIRED)
add_custom_command(OUTPUT ${docs}/eventdesk.1.gz
    COMMAND ${GZIP_PROGRAM} -9 -n -c ${CMAKE_CURRENT_SOURCE_DIR}/resources/man/eventdesk.1 > ${docs}/eventdesk.1.gz
    DEPENDS resources/man/eventdesk.1 VERBATIM)
add_custom_command(OUTPUT ${docs}/changelog.gz
    COMMAND ${GZIP_PROGRAM} -9 -n -c ${docs}/changelog > ${docs}/changelog.gz
    DEPENDS ${docs}/changelog VERBATIM)
add_custom_target(eventdesk_docs ALL DEPENDS ${docs}/eventdesk.1.gz ${docs}/changelog.gz)

install(FILES resources/eventdesk.desktop DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
# `systemctl --user enable --now eventdesk`: a session host in the background (README).
install(FILES resources/eventdesk.service DESTINATION lib/systemd/user)
install(FILES ${docs}/io.eventdesk.EventDesk.metainfo.xml DESTINATION ${CMAKE_INSTALL_DATADIR}/metainfo)
install(FILES resources/icons/eventdesk.svg DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps)
foreach(size 32 64 128 256)
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/resources/icons/eventdesk-${size}.png)
        install(FILES resources/icons/eventdesk-${size}.png DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/${size}x${size}/apps
                RENAME eventdesk.png)
    endif()
endforeach()
install(FILES ${docs}/eventdesk.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${docs}/copyright ${docs}/changelog.gz DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/eventdesk)

set(CPACK_PACKAGE_NAME eventdesk)
set(CPACK_PACKAGE_VENDOR "The EventDesk developers")
set(CPACK_PACKAGE_CONTACT "${EVENTDESK_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${EVENTDESK_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "game master's desk for a tabletop RPG engine's events")
# Lines of at most 80 characters, as Debian's description format wants them.
set(CPACK_PACKAGE_DESCRIPTION "EventDesk shows a tabletop role-playing game engine's event log live:
story beats, narrative events, challenge rolls, image generation jobs and
text suggestions. The game master filters it by world, type, time and text,
triggers new events or replays old ones, and hosts a local WebSocket session
that players join, each seeing only their own world. It opens the engine's
own SQLite database without changing it, runs headless as a session host
(eventdesk serve), and can share its events between machines through Redis
Streams.")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_HOMEPAGE_URL "${EVENTDESK_HOMEPAGE}")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "${EVENTDESK_HOMEPAGE}")
set(CPACK_GENERATOR "DEB;TGZ")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libqt6sql6-sqlite, qt6-qpa-plugins, libqt6svg6, libhiredis0.14")
set(CPACK_STRIP_FILES ON)
set(CPACK_RESOURCE_FILE_LICENSE ${CMAKE_CURRENT_SOURCE_DIR}/LICENSE)
include(CPack)
