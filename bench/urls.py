from django.urls import path

from bench.views import ceiling
from prefcenter.urls import urlpatterns as product_urlpatterns

urlpatterns = [path("bench/ceiling/", ceiling), *product_urlpatterns]
