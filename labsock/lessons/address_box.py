"""Task 2's IP widget: the partner's address, typed in a box and checked as it is typed.

    partner = labsock.address_box()          # shows the box; type the server laptop's address
    %%client lan_client --set serverName={partner.address}

The student's own client program gets the address through %%client's --set (IPython fills in
{partner.address} when the cell runs). The box never sends anything: it says whether what is
typed can be an address to send to (assess_destination, also the function twin).
"""

from __future__ import annotations

from html import escape

from labsock.lessons import partner
from labsock.show.optional import widgets
from labsock.show.views import shown_as_text

_COLOURS = {partner.OK: "green", partner.WARNING: "#a60", partner.ERROR: "#b00"}


class AddressBox:
    """A text box for the server laptop's IPv4 address, with its verdict under it."""

    def __init__(self, address: str = "127.0.0.1", port: int = 12000, addresses=None):
        ui = widgets()
        self.port = port
        self._addresses = addresses
        self.box = ui.Text(value=str(address), description="Server IP:")
        self.verdict = ui.HTML()
        self.box.observe(lambda _change: self.check(), "value")
        self.widget = ui.VBox([self.box, self.verdict])
        self.check()

    @property
    def address(self) -> str:
        """What is typed, without spaces (the program explains it if it is no address)."""
        return self.box.value.strip()

    def check(self) -> partner.DestinationVerdict:
        verdict = partner.assess_destination(self.address, self.port, self._addresses_now())
        colour = _COLOURS[verdict.level]
        self.verdict.value = f"<span style='color:{colour}'>{escape(verdict.text)}</span>"
        return verdict

    def _addresses_now(self):
        if self.address.startswith("127."):
            return None  # loopback needs no adapter list
        if self._addresses is None:
            from labsock.net.addresses import find_my_ipv4

            self._addresses = find_my_ipv4()  # read once: adapters rarely change meanwhile
        return self._addresses

    def _repr_mimebundle_(self, **kwargs):
        return shown_as_text(self.widget, f"<address box: {self.address}>")


def address_box(address: str = "127.0.0.1", port: int = 12000) -> AddressBox:
    return AddressBox(address, port)
