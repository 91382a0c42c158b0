// File → Export and File → Import of the window: the filtered rows written
// out page by page (JSON lines, or CSV for a .csv path; the file appears
// whole or not at all), and a file of JSON lines imported all or nothing.
// Both show progress and Cancel in the window's task bar and say how they
// ended through message().
#pragma once

#include "DeskPorts.h"
#include "Ports.h"

#include <QObject>

namespace eventdesk {

class TaskProgress;

class LogTransfer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LogTransfer)
public:
    // importer: null where the log cannot take an import (a Redis stream, a read-only file).
    LogTransfer(EventStore &store, LogImport *importer, TaskProgress *task, QObject *parent = nullptr);

    bool canImport() const { return m_importer != nullptr; }
    // Every row `query` matches (not just the rows a window holds), oldest first.
    void exportRows(const EventQuery &query, qint64 expectedRows, const QString &path);
    void importFile(const QString &path);

Q_SIGNALS:
    void message(const QString &text);
    void exported(qint64 rows, const QString &path);
    void imported(qint64 rows);

private:
    EventStore &m_store;
    LogImport *m_importer;
    TaskProgress *m_task;
    bool m_importing = false;  // an import past its check
};

} // namespace eventdesk
