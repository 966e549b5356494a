// The submission page: shows the results and follows them live until judging is done.
(function () {
  "use strict";
  var data = Judging.pageData();
  var results = new Judging.Results(data.text);
  Judging.follow(data.submission, results);
})();
