// What runs over the bus while a desk is open, built one way for `eventdesk
// serve` and for the window: the projector (insight), metrics (publish
// timings, lag, the log's counts), the DM's webhooks, the session server,
// and, for a log that can be written on SQLite, the file importer.
#pragma once

#include "BusSetup.h"
#include "ImportFile.h"
#include "Metrics.h"
#include "Projector.h"
#include "SessionServer.h"
#include "Webhooks.h"

#include <QTimer>

#include <memory>

namespace eventdesk::app {

struct HostedDeskOptions {
    // Publishes through the session timed for /metrics. serve leaves them
    // untimed unless metrics are asked for; the window times them always (the
    // DM may turn /metrics on at any time).
    bool measurePublishes = true;
    // Display names into the session and the webhooks every this often (and
    // the webhook rules read again: `notify add` while serving). 0: the owner
    // pushes names itself (the window does, as the DM names things).
    int namesEveryMs = 0;
};

class HostedDesk
{
public:
    static Result<std::unique_ptr<HostedDesk>> open(const BusConfig &bus, const SessionConfig &session,
                                                    HostedDeskOptions options = {});
    ~HostedDesk();

    BusHandle &bus() { return *m_bus; }
    Projector &projector() { return *m_projector; }
    Metrics &metrics() { return *m_metrics; }
    SessionServer &server() { return *m_server; }
    // Null without a writable desk (a read-only log).
    WebhookDispatcher *webhooks() { return m_webhooks.get(); }
    // Null unless the log is SQLite and can be written.
    FileImporter *importer() { return m_importer.get(); }
    // Display names into the session and the webhooks.
    void setDisplayNames(const QHash<QString, QString> &names);

private:
    HostedDesk() = default;
    void reloadNames();

    // Torn down in reverse: the server, webhooks and projections first, the bus last.
    std::unique_ptr<BusHandle> m_bus;
    std::unique_ptr<Projector> m_projector;
    std::unique_ptr<Metrics> m_metrics;
    std::unique_ptr<MeasuredBus> m_measured;
    std::unique_ptr<WebhookDispatcher> m_webhooks;
    std::unique_ptr<FileImporter> m_importer;
    std::unique_ptr<SessionServer> m_server;
    QTimer m_names;
};

} // namespace eventdesk::app
