def test_home_page_renders_in_chinese_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "中国南湖·青创城" in response.get_data(as_text=True)
