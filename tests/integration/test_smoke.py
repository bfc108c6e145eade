from govshare.catalog import service
from tests.factories import resource_in


def test_registered_resource_gets_code_from_classification(session, city):
    r = service.create_resource(session, city.police_officer, resource_in())
    assert r.code == "101/000001"
    assert r.status == "draft"
