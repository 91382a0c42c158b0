// The window's filters: the filter bar, the query it makes (remembered per
// database), the world list, "view as" a client, and the banners and empty
// states that say what is shown.
#include "MainWindow.h"
#include "FilterBar.h"
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

QComboBox *MainWindow::worldFilter() const { return m_filterBar->world(); }
TypeFilter *MainWindow::typeFilter() const { return m_filterBar->type(); }
QToolButton *MainWindow::hideProgressButton() const { return m_filterBar->hideProgress(); }
QLineEdit *MainWindow::textFilter() const { return m_filterBar->text(); }
QComboBox *MainWindow::timeFilter() const { return m_filterBar->since(); }

void MainWindow::buildFilterBar()
{
    m_filterBar = new FilterBar(*m_filter, [this](const QString &id) { return m_model->displayName(id); }, this);
    addToolBar(m_filterBar);
    // Touching a filter while viewing as a client ends that view, even when
    // the filter stays as it was.
    connect(m_filterBar, &FilterBar::touched, this, [this] {
        if (m_viewingAsClient)
            applyFilters();
    });
    m_jump->setPlaceholderText(tr("Go to id"));
    m_jump->setMaximumWidth(100);
    m_jump->setValidator(new QIntValidator(1, INT_MAX, m_jump));
    m_follow->setText(tr("Follow"));
    m_follow->setCheckable(true);
    m_follow->setChecked(true);
    m_follow->setToolTip(tr("Keep the newest event in view (Ctrl+L)"));
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
        m_filterBar->setWorlds(r.value());
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
    m_filterBar->showState();
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
            parts << tr("type <b>%1</b>").arg(m_filterBar->type()->describe().toHtmlEscaped());
        if (f.hideProgress)
            parts << tr("no progress rows");
        if (!f.text.isEmpty())
            parts << tr("text <b>“%1”</b>").arg(f.text.toHtmlEscaped());
        if (f.sinceSeconds > 0)
            parts << m_filterBar->sinceText().toLower().toHtmlEscaped();
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
