#include "firstboot/commands.hpp"

#include "common/error.hpp"
#include "firstboot/site_state.hpp"
#include "firstboot/site_view.hpp"

namespace airstrap::firstboot {

int show_status(const StatusOptions&, std::ostream&) { throw Error("status: not written yet"); }

void open_rejoin(const Paths& paths, const std::string& node, std::ostream& out) {
    Identity id = load_identity(paths);
    if (id.site.node(id.node)->role != Role::controller)
        throw InputError("rejoin is run on the controller (" + id.site.controller().name +
                         "); this is " + id.node);
    const NodeView* n = id.site.node(node);
    if (!n) throw InputError("'" + node + "' is not a node of site " + id.site.name);
    if (n->role == Role::controller)
        throw InputError("the controller does not enrol with itself; nothing to rejoin");
    SiteState::open_rejoin(paths.rejoin_dir(), node);
    out << "rejoin window open for " << node << " (" << n->address
        << "): its next enrolment may carry new SSH host keys; the old pin is replaced and "
           "known_hosts is updated on every node\n";
}

}  // namespace airstrap::firstboot
