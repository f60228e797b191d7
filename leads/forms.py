from django import forms

from agents.models import Agent, Company

from .models import Order
from .selectors import OrderFilters, company_products, leads_agents, sales_dispositions


class AgentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Agent) -> str:
        return f"{obj.full_name} ({obj.email})" if obj.full_name else obj.email


class DispositionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} ({obj.center.name})"


class ResolveForm(forms.Form):
    """Resolve without a sale: one of the sales dispositions of the company's call centers."""

    disposition = DispositionChoiceField(
        queryset=None,
        empty_label="— Sales disposition —",
        error_messages={
            "required": "Choose a sales disposition to resolve the lead.",
            "invalid_choice": "Choose one of the sales dispositions of your call centers.",
        },
    )

    def __init__(self, *args, company: Company, dispositions=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["disposition"].queryset = (
            dispositions if dispositions is not None else sales_dispositions(company=company)
        )


class OrderLineForm(forms.Form):
    product = forms.ModelChoiceField(queryset=None, required=False, empty_label="— Product —")
    quantity = forms.IntegerField(min_value=1, max_value=100_000, required=False, initial=1)
    unit_price = forms.DecimalField(
        min_value=0,
        max_digits=11,
        decimal_places=2,
        required=False,
        help_text="Empty: the product's price.",
    )

    def __init__(self, *args, products=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = products


OrderLineFormSet = forms.formset_factory(OrderLineForm, extra=3, max_num=20, absolute_max=20)


class OrderForm(forms.Form):
    status = forms.ChoiceField(choices=Order.Status.choices, initial=Order.Status.PARTIAL)
    currency = forms.CharField(max_length=3, initial="USD")


class OrderFiltersForm(forms.Form):
    status = forms.ChoiceField(required=False)
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    product = forms.ModelChoiceField(queryset=None, required=False, empty_label="Any product")
    agent = AgentChoiceField(
        queryset=None, required=False, empty_label="Any leads agent", label="Leads agent"
    )
    show_agent = forms.BooleanField(required=False, label="Show Leads Agent")
    # Batch updates shown (``?batch=1``): kept through Apply, offered to admins only.
    batch = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, company: Company, statuses, can_assign: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_assign:
            del self.fields["batch"]
        self.fields["status"].choices = [("", "Any status"), *statuses]
        self.fields["product"].queryset = company_products(company=company)
        self.fields["agent"].queryset = leads_agents(company=company)

    def filters(self) -> OrderFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return OrderFilters(
            status=data.get("status") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            product=data.get("product"),
            agent=data.get("agent"),
        )


class AssignLeadsForm(forms.Form):
    """Order Details' batch update: the Leads Agent who gets the selected orders' customers
    (the orders are read by the view, within the user's scope; the service checks again)."""

    agent = AgentChoiceField(
        queryset=None,
        empty_label="— Leads Agent —",
        label="Leads Agent",
        error_messages={
            "required": "Choose the Leads Agent to assign.",
            "invalid_choice": "Choose one of your company's active Leads Agents.",
        },
    )

    def __init__(self, *args, company: Company, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].queryset = leads_agents(company=company)
        self.fields["agent"].widget.attrs["id"] = "batch-agent"
