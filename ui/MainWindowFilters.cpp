// The window's filters: the filter bar, the query it makes (remembered per
// database), the world list, "view as" a client, and the banners and empty
// states that say what is shown.
#include "MainWindow.h"
#include "EngineMessages.h"
#include "PlainText.h"

#include "ChallengesDialog.h"
#include "Banners.h"
#include "DetailPane.h"
#include "EventCodec.h"
#include "EventLogModel.h"
#include "Ids.h"
#include "InsightPanel.h"
#include "MatchDelegate.h"
#include "Logging.h"
#include "PruneDialog.h"
#include "QuickActions.h"
#include "RowFormat.h"
#include "SessionPanel.h"
#include "SessionServer.h"
#include "Timestamp.h"
#include "TriggerDialog.h"
#include "TypeFilter.h"

#include <QCloseEvent>
#include <QComboBox>
#include <QCryptographicHash>
#include <QDateTime>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDockWidget>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QSaveFile>
#include <QScrollBar>
#include <QScreen>
#include <QSettings>
#include <QPushButton>
#include <QShortcut>
#include <QStackedWidget>
#include <QSplitter>
#include <QStatusBar>
#include <QTableView>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>

using namespace Qt::StringLiterals;

namespace eventdesk {

QString MainWindow::filterKey(QStringView name) const
{
    const QByteArray where = m_deps.location.toUtf8();
    const QByteArray id = QCryptographicHash::hash(where, QCryptographicHash::Sha1).toHex().left(16);
    return u"filters/%1/%2"_s.arg(QString::fromLatin1(id), name);
}

void MainWindow::buildFilterBar()
{
    auto *bar = addToolBar(tr("Filter"));
    bar->setObjectName(u"filterBar"_s);
    bar->setMovable(false);
    m_world->setMinimumContentsLength(14);
    m_world->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_text->setPlaceholderText(tr("Search the payloads…"));
    m_text->setClearButtonEnabled(true);
    m_jump->setPlaceholderText(tr("Go to id"));
    m_jump->setMaximumWidth(100);
    m_jump->setValidator(new QIntValidator(1, INT_MAX, m_jump));
    m_follow->setText(tr("Follow"));
    m_follow->setCheckable(true);
    m_follow->setChecked(true);
    m_follow->setToolTip(tr("Keep the newest event in view (Ctrl+L)"));

    bar->addWidget(new QLabel(tr(" World "), this));
    bar->addWidget(m_world);
    bar->addWidget(new QLabel(tr("  Type "), this));
    bar->addWidget(m_type);
    // One click hides the many *Progress rows of generation and suggestion jobs.
    m_hideProgress->setText(tr("Hide progress"));
    m_hideProgress->setCheckable(true);
    m_hideProgress->setToolTip(tr("Leave out GenerationBatchProgress and SuggestionProgress"));
    bar->addWidget(m_hideProgress);
    m_since->setObjectName(u"sinceFilter"_s);
    m_since->addItem(tr("Any time"), 0);
    m_since->addItem(tr("Last 15 minutes"), 15 * 60);
    m_since->addItem(tr("Last hour"), 3600);
    m_since->addItem(tr("Last 4 hours"), 4 * 3600);
    m_since->addItem(tr("Last 24 hours"), 24 * 3600);
    m_since->addItem(tr("Last 7 days"), 7 * 24 * 3600);
    m_since->setToolTip(tr("Only events created in this time"));
    bar->addWidget(new QLabel(u"  "_s, this));
    bar->addWidget(m_since);
    bar->addWidget(new QLabel(u"  "_s, this));
    m_text->setMinimumWidth(160);
    m_text->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    bar->addWidget(m_text);

    m_filterDelay->setSingleShot(true);
    m_filterDelay->setInterval(250);
    connect(m_filterDelay, &QTimer::timeout, this, &MainWindow::applyFilters);
    connect(m_world, &QComboBox::activated, this, &MainWindow::applyFilters);
    connect(m_type, &TypeFilter::changed, this, &MainWindow::applyFilters);
    connect(m_hideProgress, &QToolButton::clicked, this, &MainWindow::applyFilters);
    connect(m_since, &QComboBox::activated, this, &MainWindow::applyFilters);
    connect(m_text, &QLineEdit::textChanged, m_filterDelay, qOverload<>(&QTimer::start));
    connect(m_jump, &QLineEdit::returnPressed, this, [this] {
        if (!m_jump->text().isEmpty())
            m_model->jumpTo(m_jump->text().toLongLong());
    });
    connect(m_follow, &QToolButton::toggled, this, [this](bool on) {
        if (!on)
            return;
        if (m_model->hasNewer())
            m_model->showNewest();  // after a jump: back to the newest page
        m_view->scrollToBottom();
    });
}

void MainWindow::applyFilters()
{
    if (m_viewingAsClient) {
        // A filter changed while viewing as a client: that view ends, and says so.
        m_viewingAsClient = false;
        showMessage(tr("Left “view as”: a filter changed"));
    }
    EventQuery q;
    const QString world = m_world->currentData().toString();
    if (world == QLatin1StringView(NoWorld))
        q.worlds = {QString()};
    else if (!world.isEmpty())
        q.worlds = {world};
    q.kinds = m_type->kinds();
    q.tags = m_type->tags();
    if (m_hideProgress->isChecked()) {
        QList<EventKind> kinds = q.kinds;
        if (kinds.isEmpty() && q.tags.isEmpty()) {
            for (const VariantSpec &v : catalog::variants())
                kinds.append(v.kind);
            // Today's engine's messages stay in view (its progress goes with the kinds').
            for (const QString &t : engine::knownTags())
                if (!engine::appEventKind(t))
                    q.tags.append(t);
        }
        kinds.removeIf([](EventKind k) { return catalog::name(k).endsWith(u"Progress"_s); });
        q.kinds = kinds;
    }
    q.text = m_text->text().trimmed();
    // "Aria" finds Aria's events: payloads hold her UUID, not her name.
    if (!q.text.isEmpty())
        for (auto it = m_names.cbegin(); it != m_names.cend() && q.textAlso.size() < 64; ++it)
            if (it.value().contains(q.text, Qt::CaseInsensitive))
                q.textAlso.append(it.key());
    if (const int secs = m_since->currentData().toInt(); secs > 0)
        q.createdFrom = timestamp::nanos(QDateTime::currentDateTimeUtc().addSecs(-secs));
    if (q == m_model->query() && m_model->rowCount() > 0 && !q.createdFrom)
        return;
    m_count->setText(tr("counting…"));
    m_matches->setNeedle(q.text);
    m_detail->setHighlight(q.text);
    m_model->setQuery(q);
    updateBanners();
    QSettings settings;
    settings.setValue(filterKey(u"world"), world);
    QStringList types;
    for (EventKind k : m_type->kinds())
        types.append(catalog::name(k));
    types.append(m_type->tags());  // the engine's tags, by name as well
    settings.setValue(filterKey(u"types"), types);
    settings.setValue(filterKey(u"hideProgress"), m_hideProgress->isChecked());
    settings.setValue(filterKey(u"text"), q.text);
    settings.setValue(filterKey(u"since"), m_since->currentData());
}

void MainWindow::refreshWorlds()
{
    m_deps.store.distinctWorlds().then(this, [this](const Result<QStringList> &r) {
        if (!r)
            return;
        const QString current = m_world->currentData().toString();
        m_world->clear();
        m_world->addItem(tr("All worlds"), QString());
        m_world->addItem(tr("(no world)"), QString::fromLatin1(NoWorld));
        for (const QString &w : r.value()) {
            m_world->addItem(m_model->displayName(w), w);
            m_world->setItemData(m_world->count() - 1, plain::toolTip(w), Qt::ToolTipRole);
        }
        int i = m_world->findData(current);
        if (i < 0 && !current.isEmpty()) {
            // The chosen world stays chosen though the list does not (yet)
            // name it: the list comes from the index and the newest rows.
            m_world->addItem(m_model->displayName(current), current);
            m_world->setItemData(m_world->count() - 1, plain::toolTip(current), Qt::ToolTipRole);
            i = m_world->count() - 1;
        }
        m_world->setCurrentIndex(i);
        if (m_session) {
            QList<std::pair<QString, QString>> worlds;
            for (const QString &w : r.value())
                worlds.append({w, m_model->displayName(w)});
            m_session->setWorlds(worlds);
        }
    });
}

void MainWindow::viewAs(const QString &name, const QString &role, const QString &world)
{
    if (role.isEmpty()) {
        endViewAs();
        return;
    }
    // Exactly what that client receives (DESIGN §5 routing), as a filter.
    EventQuery q;
    if (role == u"player"_s) {
        q.worlds = {world};
        q.kinds = catalog::kindsInCategory(Category::Story) + catalog::kindsInCategory(Category::Narrative)
            + catalog::kindsInCategory(Category::Challenge);
    } else if (world != u"*"_s) {
        q.worlds = {world, QString()};
    }
    const QString where = world == u"*"_s ? tr("every world") : m_model->displayName(world);
    m_viewAsBanner->setText(tr("Showing what <b>%1</b> — %2, %3 — receives. The filters above do not apply.")
                                .arg(name.toHtmlEscaped(), role.toHtmlEscaped(), where.toHtmlEscaped()));
    m_viewingAsClient = true;
    m_model->setQuery(q);
    updateBanners();
}

void MainWindow::endViewAs(const QString &why)
{
    if (!m_viewingAsClient)
        return;
    m_viewingAsClient = false;
    if (!why.isEmpty())
        showMessage(why);
    applyFilters();
    updateBanners();
}

void MainWindow::clearFilters()
{
    m_world->setCurrentIndex(0);
    m_type->setKinds({});
    m_hideProgress->setChecked(false);
    m_since->setCurrentIndex(0);
    const QSignalBlocker block(m_text);  // one reload, not one after the text delay as well
    m_text->clear();
    endViewAs();
    applyFilters();
}

// The strips above the log and the empty state, from what is shown now.
void MainWindow::updateBanners()
{
    m_viewAsBanner->setVisible(m_viewingAsClient);
    const EventQuery &q = m_model->query();
    QStringList parts;
    if (!m_viewingAsClient) {
        if (!m_world->currentData().toString().isEmpty())
            parts << tr("world <b>%1</b>").arg(m_world->currentText().toHtmlEscaped());
        if (!m_type->kinds().isEmpty())
            parts << tr("type <b>%1</b>").arg(m_type->describe().toHtmlEscaped());
        if (m_hideProgress->isChecked())
            parts << tr("no progress rows");
        if (!m_text->text().trimmed().isEmpty())
            parts << tr("text <b>“%1”</b>").arg(m_text->text().trimmed().toHtmlEscaped());
        if (m_since->currentIndex() > 0)
            parts << m_since->currentText().toLower().toHtmlEscaped();
    }
    m_filterBanner->setText(tr("Filtered: %1").arg(parts.join(u" · "_s)));
    m_filterBanner->setVisible(!parts.isEmpty());

    const bool empty = m_model->rowCount() == 0 && !m_model->isLoading();
    if (empty) {
        if (m_viewingAsClient)
            m_empty->setContent(tr("Nothing for this client yet"),
                                tr("Events they receive will appear here. <a href=\"#exit-view\">Back to the whole log</a>"));
        else if (!parts.isEmpty() || q.createdFrom)
            m_empty->setContent(tr("No event matches the filter"), tr("<a href=\"#clear\">Clear filters</a> to see the whole log."));
        else
            m_empty->setContent(tr("No events yet"),
                                tr("Events appear here the moment the game engine announces them.<br><br>"
                                   "<a href=\"#open\">Open the engine's database</a> · "
                                   "<a href=\"#host\">Start hosting a session</a> · "
                                   "<a href=\"#demo\">Play a demo session</a>"));
    }
    m_logStack->setCurrentWidget(empty ? static_cast<QWidget *>(m_empty) : m_view);
}

} // namespace eventdesk
