// The window's filters: the filter bar, the query it makes (remembered per
// database), the world list, "view as" a client, and the banners and empty
// states that say what is shown.
#include "MainWindow.h"
#include "LogFilter.h"
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
#include "UiLog.h"
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

    // The bar sets the filter; the filter says what changed (LogFilter::changed → onFilterChanged).
    m_filterDelay->setSingleShot(true);
    m_filterDelay->setInterval(250);
    // Touching a filter while viewing as a client ends that view, even when
    // the filter stays as it was.
    const auto touched = [this] {
        if (m_viewingAsClient)
            applyFilters();
    };
    connect(m_filterDelay, &QTimer::timeout, this, [this, touched] {
        m_filter->setText(m_text->text());
        touched();
    });
    // The world list is rebuilt with its signals blocked: a change here is the DM's (or a test's) choice.
    connect(m_world, &QComboBox::currentIndexChanged, this, [this, touched] {
        m_filter->setWorld(m_world->currentData().toString());
        touched();
    });
    connect(m_world, &QComboBox::activated, this, touched);
    connect(m_type, &TypeFilter::changed, this, [this, touched] {
        m_filter->setTypes(m_type->kinds(), m_type->tags());
        touched();
    });
    connect(m_hideProgress, &QToolButton::clicked, this, [this, touched](bool on) {
        m_filter->setHideProgress(on);
        touched();
    });
    connect(m_since, &QComboBox::activated, this, [this, touched] {
        m_filter->setSince(m_since->currentData().toInt());
        touched();
    });
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
    onFilterChanged(m_filter->query());
}

void MainWindow::onFilterChanged(const EventQuery &q)
{
    if (m_viewingAsClient) {
        // A filter changed while viewing as a client: that view ends, and says so.
        m_viewingAsClient = false;
        showMessage(tr("Left “view as”: a filter changed"));
    }
    if (q == m_model->query() && m_model->rowCount() > 0 && !q.createdFrom) {
        updateBanners();
        return;
    }
    m_count->setText(tr("counting…"));
    m_matches->setNeedle(q.text);
    m_detail->setHighlight(q.text);
    m_model->setQuery(q);
    updateBanners();
}

void MainWindow::showFilterState()
{
    const FilterState &f = m_filter->state();
    const QSignalBlocker blockText(m_text);  // one reload, not one after the text delay as well
    m_text->setText(f.text);
    m_filterDelay->stop();
    m_hideProgress->setChecked(f.hideProgress);
    {
        const QSignalBlocker blockType(m_type);
        m_type->setTypes(f.kinds, f.tags);
    }
    const QSignalBlocker blockWorld(m_world);
    int world = m_world->findData(f.world);
    if (world < 0 && !f.world.isEmpty()) {
        m_world->addItem(m_model->displayName(f.world), f.world);
        m_world->setItemData(m_world->count() - 1, plain::toolTip(f.world), Qt::ToolTipRole);
        world = m_world->count() - 1;
    }
    m_world->setCurrentIndex(std::max(0, world));
    m_since->setCurrentIndex(std::max(0, m_since->findData(f.sinceSeconds)));
}

QString MainWindow::currentWorld() const
{
    const QString world = m_filter->state().world;
    return world == QLatin1StringView(NoWorldFilter) ? QString() : world;
}

void MainWindow::refreshWorlds()
{
    m_deps.store.distinctWorlds().then(this, [this](const Result<QStringList> &r) {
        if (!r)
            return;
        const QString current = m_world->currentData().toString();
        const QSignalBlocker block(m_world);  // the list changes, not the DM's choice
        m_world->clear();
        m_world->addItem(tr("All worlds"), QString());
        m_world->addItem(tr("(no world)"), QString::fromLatin1(NoWorldFilter));
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
    const bool wasViewingAs = std::exchange(m_viewingAsClient, false);
    m_filter->clear();
    showFilterState();
    if (wasViewingAs)
        applyFilters();
}

// The strips above the log and the empty state, from what is shown now.
void MainWindow::updateBanners()
{
    m_viewAsBanner->setVisible(m_viewingAsClient);
    const EventQuery &q = m_model->query();
    QStringList parts;
    if (!m_viewingAsClient) {
        const FilterState &f = m_filter->state();
        if (!f.world.isEmpty())
            parts << tr("world <b>%1</b>").arg(f.world == QLatin1StringView(NoWorldFilter) ? tr("(no world)").toHtmlEscaped()
                                                                                          : m_model->displayName(f.world).toHtmlEscaped());
        if (!f.kinds.isEmpty() || !f.tags.isEmpty())
            parts << tr("type <b>%1</b>").arg(m_type->describe().toHtmlEscaped());
        if (f.hideProgress)
            parts << tr("no progress rows");
        if (!f.text.isEmpty())
            parts << tr("text <b>“%1”</b>").arg(f.text.toHtmlEscaped());
        if (f.sinceSeconds > 0)
            parts << m_since->itemText(std::max(0, m_since->findData(f.sinceSeconds))).toLower().toHtmlEscaped();
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
