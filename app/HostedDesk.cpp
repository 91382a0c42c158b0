#include "HostedDesk.h"

using namespace Qt::StringLiterals;

namespace eventdesk::app {

Result<std::unique_ptr<HostedDesk>> HostedDesk::open(const BusConfig &busConfig, const SessionConfig &session,
                                                     HostedDeskOptions options)
{
    auto bus = BusHandle::open(busConfig);
    if (!bus)
        return bus.error();
    std::unique_ptr<HostedDesk> d(new HostedDesk);
    d->m_bus = std::move(bus).value();
    BusHandle &b = *d->m_bus;
    d->m_projector = std::make_unique<Projector>(b.store(), b.notifier(), *b.desk());
    d->m_projector->start();
    d->m_metrics = std::make_unique<Metrics>(b.store(), b.notifier());
    EventBus *publishes = &b.bus();
    if (options.measurePublishes) {
        d->m_measured = std::make_unique<MeasuredBus>(b.bus(), *d->m_metrics);
        publishes = d->m_measured.get();
    }
    // The join secret stays the database's, so the links players were given
    // keep working from one run to the next (a join code given names another).
    d->m_server = std::make_unique<SessionServer>(b.store(), *publishes, b.notifier(), b.book(),
                                                  SessionServer::withStoredJoinCode(session, b.book()));
    d->m_metrics->setSession(d->m_server.get());
    d->m_metrics->watchSubscriber(u"projector"_s, [p = d->m_projector.get()] { return p->cursor(); });
    d->m_metrics->watchSubscriber(u"session"_s, [s = d->m_server.get()] { return s->liveCursor(); });
    // The DM's webhooks (Settings → Notifications, `notify add`), delivered from the outbox.
    if (DeskDatabase *desk = b.desk(); desk && !desk->isReadOnly()) {
        d->m_webhooks = std::make_unique<WebhookDispatcher>(b.store(), b.notifier(), *desk, WebhookDispatcher::Options{});
        d->m_webhooks->start();
        d->m_metrics->setWebhooks(d->m_webhooks.get());
    }
    if (!b.redis() && !b.sqlite()->options().readOnly)
        d->m_importer = std::make_unique<FileImporter>(*b.sqlite(), b.notifier());
    if (options.namesEveryMs > 0) {
        HostedDesk *self = d.get();
        QObject::connect(&d->m_names, &QTimer::timeout, d->m_server.get(), [self] { self->reloadNames(); });
        d->m_names.start(options.namesEveryMs);
        d->reloadNames();
    }
    return d;
}

HostedDesk::~HostedDesk()
{
    m_names.stop();
    if (m_server)
        m_server->close();
}

void HostedDesk::setDisplayNames(const QHash<QString, QString> &names)
{
    m_server->setDisplayNames(names);
    if (m_webhooks)
        m_webhooks->setDisplayNames(names);  // {character} and {world} in the messages
}

void HostedDesk::reloadNames()
{
    DeskBook *book = m_bus->book();
    if (!book)
        return;
    book->displayNames().then(m_server.get(), [this](const Result<QHash<QString, QString>> &r) {
        if (!r)
            return;
        setDisplayNames(r.value());
        if (m_webhooks)
            m_webhooks->reloadRules();  // rules added with `notify add` while serving
    });
}

} // namespace eventdesk::app
