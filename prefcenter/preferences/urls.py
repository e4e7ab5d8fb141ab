from django.urls import path
from django.views.generic import RedirectView

from prefcenter.access.views import subscriber_export
from prefcenter.preferences import views

app_name = "preferences"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="preferences:link_request"), name="home"),
    path("preferences/", views.link_request, name="link_request"),
    path("preferences/link-sent/", views.link_sent, name="link_sent"),
    path("preferences/deleted/", views.erased, name="erased"),
    path("preferences/<str:token>/", views.preference_page, name="page"),
    path("preferences/<str:token>/my-data/", subscriber_export, name="my_data"),
    path("preferences/<str:token>/status/", views.list_status, name="status"),
]
